CREATE TABLE `change_hashes` (
	`flow_id` text NOT NULL,
	`node_id` text NOT NULL,
	`key` text NOT NULL,
	`hash` blob NOT NULL,
	`run_id` integer NOT NULL,
	PRIMARY KEY(`flow_id`, `node_id`, `key`),
	FOREIGN KEY (`flow_id`) REFERENCES `flows`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `change_hashes_staged` (
	`run_id` integer NOT NULL,
	`node_id` text NOT NULL,
	`key` text NOT NULL,
	`hash` blob NOT NULL,
	PRIMARY KEY(`run_id`, `node_id`, `key`)
);
