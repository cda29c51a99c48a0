CREATE TABLE `api_tokens` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`prefix` text NOT NULL,
	`hash` text NOT NULL,
	`created_at` integer NOT NULL,
	`last_used_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_tokens_hash_unique` ON `api_tokens` (`hash`);--> statement-breakpoint
CREATE TABLE `connections` (
	`name` text PRIMARY KEY NOT NULL,
	`base_url` text NOT NULL,
	`auth_type` text NOT NULL,
	`username` text,
	`header_name` text,
	`secret` text,
	`check_path` text,
	`breaker_threshold` integer,
	`breaker_cooldown_ms` integer,
	`last_status` text,
	`last_status_message` text,
	`last_checked_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `run_inputs` (
	`run_id` integer NOT NULL,
	`seq` integer NOT NULL,
	`data` text NOT NULL,
	PRIMARY KEY(`run_id`, `seq`)
);
--> statement-breakpoint
CREATE TABLE `schedule_state` (
	`flow_id` text NOT NULL,
	`node_id` text NOT NULL,
	`last_slot` integer,
	`last_run_id` integer,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`flow_id`, `node_id`),
	FOREIGN KEY (`flow_id`) REFERENCES `flows`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `webhooks` (
	`id` text PRIMARY KEY NOT NULL,
	`flow_id` text NOT NULL,
	`node_id` text NOT NULL,
	`secret` text NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`flow_id`) REFERENCES `flows`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `webhooks_flow_node` ON `webhooks` (`flow_id`,`node_id`);--> statement-breakpoint
ALTER TABLE `flows` ADD `published_version` integer;--> statement-breakpoint
ALTER TABLE `flows` ADD `enabled` integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE `runs` ADD `scheduled_for` integer;--> statement-breakpoint
ALTER TABLE `runs` ADD `pruned_at` integer;--> statement-breakpoint
CREATE INDEX `runs_trigger` ON `runs` (`trigger`,`id`);--> statement-breakpoint
CREATE INDEX `runs_created` ON `runs` (`created_at`);--> statement-breakpoint
CREATE UNIQUE INDEX `runs_schedule_slot` ON `runs` (`flow_id`,`scheduled_for`);