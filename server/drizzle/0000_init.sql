CREATE TABLE `batches` (
	`run_id` integer NOT NULL,
	`batch_no` integer NOT NULL,
	`size` integer NOT NULL,
	`succeeded` integer NOT NULL,
	`filtered` integer NOT NULL,
	`failed` integer NOT NULL,
	`started_at` integer NOT NULL,
	`finished_at` integer,
	PRIMARY KEY(`run_id`, `batch_no`),
	FOREIGN KEY (`run_id`) REFERENCES `runs`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `collected_records` (
	`run_id` integer NOT NULL,
	`node_id` text NOT NULL,
	`seq` integer NOT NULL,
	`key` text NOT NULL,
	`data` text NOT NULL,
	PRIMARY KEY(`run_id`, `node_id`, `seq`)
);
--> statement-breakpoint
CREATE TABLE `error_messages` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`message` text NOT NULL,
	`code` text,
	`http_status` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `error_messages_unique` ON `error_messages` (`message`,`code`,`http_status`);--> statement-breakpoint
CREATE TABLE `flow_versions` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`flow_id` text NOT NULL,
	`version` integer NOT NULL,
	`document` text NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`flow_id`) REFERENCES `flows`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `flow_versions_flow_version` ON `flow_versions` (`flow_id`,`version`);--> statement-breakpoint
CREATE TABLE `flows` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`description` text,
	`latest_version` integer NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `record_outcomes` (
	`run_id` integer NOT NULL,
	`seq` integer NOT NULL,
	`key` text NOT NULL,
	`status` integer NOT NULL,
	`node_id` text NOT NULL,
	`batch_no` integer NOT NULL,
	`attempts` integer NOT NULL,
	`error_id` integer,
	`payload` text,
	`at` integer NOT NULL,
	PRIMARY KEY(`run_id`, `seq`)
);
--> statement-breakpoint
CREATE INDEX `record_outcomes_key` ON `record_outcomes` (`key`,`run_id`);--> statement-breakpoint
CREATE INDEX `record_outcomes_status` ON `record_outcomes` (`run_id`,`status`,`seq`);--> statement-breakpoint
CREATE TABLE `runs` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`flow_id` text,
	`flow_version_id` integer,
	`flow_name` text NOT NULL,
	`status` text NOT NULL,
	`trigger` text NOT NULL,
	`read` integer DEFAULT 0 NOT NULL,
	`succeeded` integer DEFAULT 0 NOT NULL,
	`filtered` integer DEFAULT 0 NOT NULL,
	`failed` integer DEFAULT 0 NOT NULL,
	`node_counts` text DEFAULT '{}' NOT NULL,
	`error` text,
	`created_at` integer NOT NULL,
	`started_at` integer,
	`finished_at` integer,
	FOREIGN KEY (`flow_id`) REFERENCES `flows`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`flow_version_id`) REFERENCES `flow_versions`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `runs_flow` ON `runs` (`flow_id`,`id`);--> statement-breakpoint
CREATE INDEX `runs_status` ON `runs` (`status`,`id`);