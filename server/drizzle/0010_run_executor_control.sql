ALTER TABLE `runs` ADD `executor` text;--> statement-breakpoint
ALTER TABLE `runs` ADD `control` text;