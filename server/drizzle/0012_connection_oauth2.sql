ALTER TABLE `connections` ADD `oauth2` text;--> statement-breakpoint
ALTER TABLE `connections` ADD `refresh_token` text;