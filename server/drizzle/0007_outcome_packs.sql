CREATE TABLE `outcome_details` (
	`run_id` integer NOT NULL,
	`seq` integer NOT NULL,
	`status` integer NOT NULL,
	`key` text NOT NULL,
	`node_id` text NOT NULL,
	`batch_no` integer NOT NULL,
	`attempts` integer NOT NULL,
	`error_id` integer,
	`payload` text,
	`at` integer NOT NULL,
	PRIMARY KEY(`run_id`, `seq`)
) WITHOUT ROWID;
--> statement-breakpoint
CREATE INDEX `outcome_details_status` ON `outcome_details` (`run_id`,`status`,`seq`);--> statement-breakpoint
CREATE TABLE `outcome_keys` (
	`run_id` integer NOT NULL,
	`key` blob NOT NULL,
	`seq` integer NOT NULL,
	PRIMARY KEY(`run_id`, `key`, `seq`)
) WITHOUT ROWID;
--> statement-breakpoint
CREATE TABLE `outcome_packs` (
	`id` integer PRIMARY KEY NOT NULL,
	`run_id` integer NOT NULL,
	`bucket` integer NOT NULL,
	`part` integer NOT NULL,
	`count` integer NOT NULL,
	`statuses` integer NOT NULL,
	`nodes` text NOT NULL,
	`base_at` integer NOT NULL,
	`base_batch` integer NOT NULL,
	`meta` blob NOT NULL,
	`keys` blob NOT NULL
);
--> statement-breakpoint
CREATE TABLE `outcome_outputs` (
	`id` integer PRIMARY KEY NOT NULL,
	`run_id` integer NOT NULL,
	`bucket` integer NOT NULL,
	`part` integer NOT NULL,
	`outputs` blob NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `outcome_outputs_at` ON `outcome_outputs` (`run_id`,`bucket`,`part`);
--> statement-breakpoint
CREATE UNIQUE INDEX `outcome_packs_at` ON `outcome_packs` (`run_id`,`bucket`,`part`);--> statement-breakpoint
CREATE INDEX `runs_flow_kept` ON `runs` (`flow_id`,`id`) WHERE pruned_at IS NULL;--> statement-breakpoint
-- The outcomes stored before this release: moved to the new tables by the server when it opens the
-- database (server/src/runs/convert-outcomes.ts), then dropped. WITHOUT ROWID above: hand-written, as
-- the schema builder cannot say it.
ALTER TABLE `record_outcomes` RENAME TO `legacy_record_outcomes`;