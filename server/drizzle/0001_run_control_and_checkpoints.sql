ALTER TABLE `runs` ADD `cancelled` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `runs` ADD `waiting` text;--> statement-breakpoint
ALTER TABLE `runs` ADD `checkpoint` text;--> statement-breakpoint
ALTER TABLE `runs` ADD `lease_owner` text;--> statement-breakpoint
ALTER TABLE `runs` ADD `lease_expires_at` integer;--> statement-breakpoint
ALTER TABLE `runs` ADD `retry_of` integer;--> statement-breakpoint
CREATE INDEX `runs_retry_of` ON `runs` (`retry_of`);