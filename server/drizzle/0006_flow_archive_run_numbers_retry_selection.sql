CREATE TABLE `retry_selections` (
	`run_id` integer NOT NULL,
	`seq` integer NOT NULL,
	`payload` text,
	PRIMARY KEY(`run_id`, `seq`)
);
--> statement-breakpoint
ALTER TABLE `flows` ADD `archived_at` integer;--> statement-breakpoint
ALTER TABLE `runs` ADD `run_number` integer;--> statement-breakpoint
-- existing runs are numbered per flow in the order they were created (ids grow with creation)
UPDATE `runs` SET `run_number` = (SELECT COUNT(*) FROM `runs` AS `earlier` WHERE `earlier`.`flow_id` = `runs`.`flow_id` AND `earlier`.`id` <= `runs`.`id`) WHERE `flow_id` IS NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX `runs_flow_number` ON `runs` (`flow_id`,`run_number`);