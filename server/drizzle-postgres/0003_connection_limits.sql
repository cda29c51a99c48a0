ALTER TABLE "connections" ADD COLUMN "limit_max_concurrent" integer;--> statement-breakpoint
ALTER TABLE "connections" ADD COLUMN "limit_max_per_second" double precision;