DROP INDEX "error_messages_unique";--> statement-breakpoint
ALTER TABLE "error_messages" ADD CONSTRAINT "error_messages_unique" UNIQUE NULLS NOT DISTINCT("message","code","http_status");