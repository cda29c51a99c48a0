ALTER TABLE `schedule_state` ADD `version` integer;--> statement-breakpoint
CREATE INDEX `runs_flow_status` ON `runs` (`flow_id`,`status`,`id`);--> statement-breakpoint
CREATE INDEX `runs_flow_trigger` ON `runs` (`flow_id`,`trigger`,`id`);