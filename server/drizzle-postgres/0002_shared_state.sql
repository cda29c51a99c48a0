CREATE TABLE "breaker_states" (
	"connection" text PRIMARY KEY NOT NULL,
	"state" text NOT NULL,
	"open_until" bigint,
	"version" bigint NOT NULL,
	"updated_at" bigint NOT NULL,
	"updated_by" text NOT NULL
);
--> statement-breakpoint
CREATE UNLOGGED TABLE "connection_pacing" (
	"connection" text PRIMARY KEY NOT NULL,
	"next_at" double precision NOT NULL
);
--> statement-breakpoint
CREATE UNLOGGED TABLE "connection_places" (
	"holder" text PRIMARY KEY NOT NULL,
	"connection" text NOT NULL,
	"owner" text NOT NULL,
	"expires_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE INDEX "connection_places_connection" ON "connection_places" USING btree ("connection","expires_at");