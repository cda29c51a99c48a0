ALTER TABLE "connections" ADD COLUMN "oauth2" text;--> statement-breakpoint
ALTER TABLE "connections" ADD COLUMN "refresh_token" text;