ALTER TABLE `connections` ADD `limit_max_concurrent` integer;--> statement-breakpoint
ALTER TABLE `connections` ADD `limit_max_per_second` real;