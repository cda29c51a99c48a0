import { createHash } from 'node:crypto';
import type pg from 'pg';
import { BUCKET_BITS, find, mergeParts, type PackedOutcome, type PackRow, unpack } from '../outcomes/outcome-pack.mjs';

export type { PackedOutcome };

const BUCKET = 2 ** BUCKET_BITS;

/**
 * A packed row's columns as unpack() takes them: the node list as its JSON text (jsonb would come
 * back parsed, and the row's text is what outcome-pack.mjs reads) and `base_at` as a double
 * (node-postgres reads `bigint` as a string).
 */
export const PACK_COLUMNS =
  'p.bucket, p.part, p.count, p.nodes::text AS nodes, p.base_at::float8 AS base_at, p.base_batch, p.meta, p.keys';

/** The start of a query of packed rows (aliased `p`), with their outputs (a table of their own) or not. */
function selectPacks(withOutput: boolean | undefined): string {
  return withOutput
    ? `SELECT ${PACK_COLUMNS}, o.outputs FROM outcome_packs p
         LEFT JOIN outcome_outputs o ON o.run_id = p.run_id AND o.bucket = p.bucket AND o.part = p.part`
    : `SELECT ${PACK_COLUMNS} FROM outcome_packs p`;
}

/** Keys longer than this many bytes are indexed by their digest. */
const LONGEST_INDEXED_KEY = 1024;

/**
 * A key as `outcome_keys` holds it: its UTF-8 bytes, or, for a key longer than 1 KB, 0xFF and its
 * SHA-256. A btree entry in PostgreSQL holds at most about 2.7 KB, where SQLite's hold any length, and
 * a record's key may be any string; UTF-8 never has a 0xFF byte, so a digest is never a key's bytes.
 * Whoever reads by key compares the packed outcome's own key (`records`), or (a key's history) trusts
 * the digest.
 */
export function indexedKey(key: Buffer): Buffer {
  if (key.length <= LONGEST_INDEXED_KEY) return key;
  return Buffer.concat([Buffer.from([0xff]), createHash('sha256').update(key).digest()]);
}

/** What a scan of a run's packed outcomes keeps. */
export interface ScanQuery {
  /** Positions after this one only. */
  after?: number;
  /** A status code: rows without it are skipped by the database, the others filtered here. */
  status?: number;
  /** Outcomes that ended at this node, or (with `collected`) were kept by it. */
  nodeId?: string;
  /** Only outcomes a collect node kept (with their outputs decoded). */
  collected?: boolean;
  /** Decode the outputs. */
  withOutput?: boolean;
  limit: number;
}

/** Something that runs queries: the pool, or a client inside a transaction. */
export type Queryable = Pick<pg.Pool, 'query'> | Pick<pg.PoolClient, 'query'>;

/**
 * Reads a run's packed record outcomes (outcome-pack.mjs) from PostgreSQL, as OutcomePacks does from
 * SQLite: in position order from a position on, at given positions, those settled from a position.
 * Every read is a range of `outcome_packs_at` (run, bucket, part).
 */
export class PgPacks {
  constructor(private readonly db: Queryable) {}

  /**
   * Outcomes in position order after `q.after`, that match the query, up to `q.limit` (and the rest
   * of the bucket the limit was reached in, so the caller can tell whether there are more). The rows
   * are read a growing number at a time, each read ending on a whole bucket.
   */
  async scan(runId: number, q: ScanQuery): Promise<PackedOutcome[]> {
    const select = selectPacks(q.withOutput || q.collected);
    const filtered = q.status !== undefined || q.nodeId !== undefined;
    // positions come from the API (a cursor, a retry's selection): compared as bigints, so one past
    // any bucket there can be finds nothing rather than overflowing the column's integer type
    const where = ['p.run_id = $1', 'p.bucket >= $2::bigint'];
    const args: (number | string)[] = [runId, 0];
    if (q.status !== undefined) {
      args.push(1 << q.status);
      where.push(`p.statuses & $${args.length} <> 0`);
    }
    if (q.nodeId !== undefined) {
      // a row naming the node somewhere; the exact test is below
      args.push(q.nodeId);
      where.push(`p.nodes ? $${args.length}`);
    }
    // A row left out by the status or node test may hold the last write of a position that an earlier
    // part of its bucket, kept, holds too (a group written again): such a bucket is read whole, so
    // each row says how many parts its bucket has.
    const parts = filtered
      ? ', (SELECT count(*)::int FROM outcome_packs c WHERE c.run_id = p.run_id AND c.bucket = p.bucket) AS parts'
      : '';
    args.push(0);
    const text = `${select.replace(' FROM outcome_packs p', `${parts} FROM outcome_packs p`)}
      WHERE ${where.join(' AND ')} ORDER BY p.bucket, p.part LIMIT $${args.length}`;
    const keep = (o: PackedOutcome) =>
      (q.after === undefined || o.seq > q.after) &&
      (q.status === undefined || o.status === q.status) &&
      (q.collected ? o.outputNode !== null && (q.nodeId === undefined || o.outputNode === q.nodeId) : true) &&
      (q.collected || q.nodeId === undefined || o.node === q.nodeId);
    const out: PackedOutcome[] = [];
    const whole = async (bucket: number) =>
      (
        await this.db.query<PackRow>(`${select} WHERE p.run_id = $1 AND p.bucket = $2::bigint ORDER BY p.part`, [
          runId,
          bucket,
        ])
      ).rows;
    let from = q.after === undefined ? 0 : Math.floor((q.after + 1) / BUCKET);
    let chunk = Math.min(Math.max(8, Math.ceil(q.limit / BUCKET) + 2), 1024);
    for (;;) {
      args[1] = from;
      args[args.length - 1] = chunk;
      const rows = (await this.db.query<PackRow & { parts?: number }>(text, args)).rows;
      const full = rows.length === chunk;
      const lastBucket = rows.length ? (rows[rows.length - 1] as PackRow).bucket : -1;
      // a full read may have cut the last bucket's parts: that bucket is left to the next read, or,
      // when it filled the read alone, read whole now
      const onlyOne = full && (rows[0] as PackRow).bucket === lastBucket;
      const done = full && !onlyOne ? rows.filter((r) => r.bucket !== lastBucket) : rows;
      for (let i = 0; i < done.length; ) {
        const bucket = (done[i] as PackRow).bucket;
        let j = i;
        while (j < done.length && (done[j] as PackRow).bucket === bucket) j++;
        const stored = (done[i] as { parts?: number }).parts;
        const parts =
          onlyOne || (filtered && stored !== undefined && stored > j - i) ? await whole(bucket) : done.slice(i, j);
        for (const o of mergeParts(parts.map(unpack))) if (keep(o)) out.push(o);
        i = j;
        if (out.length >= q.limit) return out;
      }
      if (!full) return out;
      from = onlyOne ? lastBucket + 1 : lastBucket;
      chunk = Math.min(chunk * 2, 4096);
    }
  }

  /** The outcomes at these positions (those stored), by position: one query for every bucket. */
  async at(runId: number, seqs: readonly number[], withOutput = false): Promise<Map<number, PackedOutcome>> {
    const found = new Map<number, PackedOutcome>();
    if (seqs.length === 0) return found;
    const buckets = new Map<number, number[]>();
    for (const seq of seqs) {
      const b = Math.floor(seq / BUCKET);
      const list = buckets.get(b);
      if (list) list.push(seq);
      else buckets.set(b, [seq]);
    }
    const rows = (
      await this.db.query<PackRow>(
        `${selectPacks(withOutput)} WHERE p.run_id = $1 AND p.bucket = ANY($2::bigint[]) ORDER BY p.bucket, p.part`,
        [runId, [...buckets.keys()]],
      )
    ).rows;
    for (let i = 0; i < rows.length; ) {
      const bucket = (rows[i] as PackRow).bucket;
      let j = i;
      while (j < rows.length && (rows[j] as PackRow).bucket === bucket) j++;
      const parts = rows.slice(i, j);
      i = j;
      const wanted = buckets.get(bucket) ?? [];
      if (wanted.length === 1) {
        // one outcome: found in each part without unpacking the others (the last part that has it wins)
        const seq = wanted[0] as number;
        for (const part of parts) {
          const o = find(part, seq);
          if (o) found.set(seq, o);
        }
        continue;
      }
      const set = new Set(wanted);
      for (const o of mergeParts(parts.map(unpack))) if (set.has(o.seq)) found.set(o.seq, o);
    }
    return found;
  }

  /** Positions stored at or after `from`: what a resumed run must not settle again. */
  async seqsFrom(runId: number, from: number): Promise<number[]> {
    const rows = (
      await this.db.query<PackRow>(
        `${selectPacks(false)} WHERE p.run_id = $1 AND p.bucket >= $2::bigint ORDER BY p.bucket, p.part`,
        [runId, Math.floor(from / BUCKET)],
      )
    ).rows;
    const seqs = new Set<number>();
    for (const row of rows) for (const o of unpack(row)) if (o.seq >= from) seqs.add(o.seq);
    return [...seqs];
  }

  /** Every stored outcome of a run, in position order (tests, the benchmark). */
  all(runId: number, withOutput = false): Promise<PackedOutcome[]> {
    return this.scan(runId, { limit: Number.MAX_SAFE_INTEGER, withOutput });
  }
}
