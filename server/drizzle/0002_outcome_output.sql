ALTER TABLE `record_outcomes` ADD `output` text;--> statement-breakpoint
ALTER TABLE `record_outcomes` ADD `output_node` text;