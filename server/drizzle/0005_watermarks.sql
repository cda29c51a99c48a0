CREATE TABLE `watermarks` (
	`flow_id` text NOT NULL,
	`node_id` text NOT NULL,
	`value` text NOT NULL,
	`run_id` integer NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`flow_id`, `node_id`),
	FOREIGN KEY (`flow_id`) REFERENCES `flows`(`id`) ON UPDATE no action ON DELETE no action
);
