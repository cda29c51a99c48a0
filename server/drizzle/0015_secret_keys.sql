CREATE TABLE `secret_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`sealed_key` text,
	`created_at` integer NOT NULL,
	`retired_at` integer
);
