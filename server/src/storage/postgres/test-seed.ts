import { BUCKET_BITS, DETAIL, VarintWriter } from '../outcomes/outcome-pack.mjs';
import type { PgDb } from './db.js';
import { row } from './rows.js';

/**
 * Rows for the tests of the PostgreSQL run stores, written with plain SQL: flows, runs with the
 * columns a test sets, and packed outcomes laid out as outcome-pack.mjs reads them (the run store that
 * writes them in a server is tested on its own). Tests only.
 */

/** A flow with one version; returns the version's id. */
export async function seedFlow(db: PgDb, flowId: string, at = 1_000): Promise<number> {
  await db.$client.query(
    `INSERT INTO flows (id, name, latest_version, enabled, created_at, updated_at) VALUES ($1, $1, 1, true, $2, $2)`,
    [flowId, at],
  );
  const version = await row<{ id: number }>(
    db.$client,
    `INSERT INTO flow_versions (flow_id, version, document, created_at) VALUES ($1, 1, $2, $3) RETURNING id`,
    [flowId, JSON.stringify({ id: flowId, nodes: [], edges: [] }), at],
  );
  return version?.id as number;
}

export interface SeedRun {
  flowId: string | null;
  flowName?: string;
  status?: string;
  trigger?: string;
  createdAt?: number;
  startedAt?: number | null;
  finishedAt?: number | null;
  read?: number;
  failed?: number;
  flowVersionId?: number | null;
}

/** A run row as a test sets it; returns its id. */
export async function seedRun(db: PgDb, run: SeedRun): Promise<number> {
  const inserted = await row<{ id: number }>(
    db.$client,
    `INSERT INTO runs (flow_id, flow_version_id, flow_name, status, trigger, created_at, started_at, finished_at, read, failed)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
    [
      run.flowId,
      run.flowVersionId ?? null,
      run.flowName ?? run.flowId ?? 'draft',
      run.status ?? 'succeeded',
      run.trigger ?? 'api',
      run.createdAt ?? 1_000,
      run.startedAt ?? null,
      run.finishedAt ?? null,
      run.read ?? 0,
      run.failed ?? 0,
    ],
  );
  return inserted?.id as number;
}

export interface SeedOutcome {
  seq: number;
  /** 0 succeeded, 1 filtered, 2 failed, 3 cancelled. */
  status?: number;
  key?: string;
  node?: string;
  at: number;
  detail?: boolean;
}

/**
 * Packs outcomes into `outcome_packs` rows (one per bucket, as part `part`) with their `outcome_keys`
 * rows, and a detail row for those marked so: what the run store writes for a group.
 */
export async function seedOutcomes(db: PgDb, runId: number, outcomes: readonly SeedOutcome[], part = 0): Promise<void> {
  const buckets = new Map<number, SeedOutcome[]>();
  for (const o of [...outcomes].sort((a, b) => a.seq - b.seq)) {
    const b = o.seq >> BUCKET_BITS;
    buckets.set(b, [...(buckets.get(b) ?? []), o]);
  }
  for (const [bucket, list] of buckets) {
    const nodes = [...new Set(list.map((o) => o.node ?? 'map'))];
    const baseAt = Math.min(...list.map((o) => o.at));
    const meta = new VarintWriter();
    const keys: Buffer[] = [];
    let statuses = 0;
    for (const o of list) {
      const key = Buffer.from(o.key ?? `k${o.seq}`);
      const status = o.status ?? 0;
      statuses |= 1 << status;
      for (const v of [
        o.seq - bucket * 2 ** BUCKET_BITS,
        status + (o.detail ? DETAIL : 0),
        nodes.indexOf(o.node ?? 'map'),
        0,
        1,
        0,
        o.at - baseAt,
        key.length,
        0,
      ])
        meta.put(v);
      keys.push(key);
    }
    await db.$client.query(
      `INSERT INTO outcome_packs (run_id, bucket, part, count, statuses, nodes, base_at, base_batch, meta, keys)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $9)`,
      [runId, bucket, part, list.length, statuses, JSON.stringify(nodes), baseAt, meta.take(), Buffer.concat(keys)],
    );
    await db.$client.query(
      `INSERT INTO outcome_outputs (run_id, bucket, part, outputs) VALUES ($1, $2, $3, '\\x') ON CONFLICT DO NOTHING`,
      [runId, bucket, part],
    );
  }
  await db.$client.query(
    `INSERT INTO outcome_keys (run_id, key, seq) SELECT $1, convert_to(k, 'UTF8'), s FROM unnest($2::text[], $3::bigint[]) AS t(k, s)
       ON CONFLICT DO NOTHING`,
    [runId, outcomes.map((o) => o.key ?? `k${o.seq}`), outcomes.map((o) => o.seq)],
  );
  const details = outcomes.filter((o) => o.detail);
  if (details.length)
    await db.$client.query(
      `INSERT INTO outcome_details (run_id, seq, status, key, node_id, batch_no, attempts, payload, at)
         SELECT $1, s, st, k, 'map', 0, 1, '{}', a FROM unnest($2::bigint[], $3::int[], $4::text[], $5::bigint[]) AS t(s, st, k, a)`,
      [
        runId,
        details.map((o) => o.seq),
        details.map((o) => o.status ?? 0),
        details.map((o) => o.key ?? `k${o.seq}`),
        details.map((o) => o.at),
      ],
    );
}
