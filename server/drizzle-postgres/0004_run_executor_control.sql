ALTER TABLE "runs" ADD COLUMN "executor" text;--> statement-breakpoint
ALTER TABLE "runs" ADD COLUMN "control" text;