CREATE TABLE "secret_keys" (
	"id" text PRIMARY KEY NOT NULL,
	"sealed_key" text,
	"created_at" bigint NOT NULL,
	"retired_at" bigint
);
