CREATE TABLE "change_hashes" (
	"flow_id" text NOT NULL,
	"node_id" text NOT NULL,
	"key" text NOT NULL,
	"hash" "bytea" NOT NULL,
	"run_id" bigint NOT NULL,
	CONSTRAINT "change_hashes_flow_id_node_id_key_pk" PRIMARY KEY("flow_id","node_id","key")
);
--> statement-breakpoint
CREATE TABLE "change_hashes_staged" (
	"run_id" bigint NOT NULL,
	"node_id" text NOT NULL,
	"key" text NOT NULL,
	"hash" "bytea" NOT NULL,
	CONSTRAINT "change_hashes_staged_run_id_node_id_key_pk" PRIMARY KEY("run_id","node_id","key")
);
--> statement-breakpoint
ALTER TABLE "change_hashes" ADD CONSTRAINT "change_hashes_flow_id_flows_id_fk" FOREIGN KEY ("flow_id") REFERENCES "public"."flows"("id") ON DELETE no action ON UPDATE no action;