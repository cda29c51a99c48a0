import type Database from 'better-sqlite3';
import { BUCKET_BITS, find, mergeParts, type PackedOutcome, type PackRow, unpack } from '../outcomes/outcome-pack.mjs';
import { preparedStatements } from './statements.js';

export type { PackedOutcome };

const BUCKET = 2 ** BUCKET_BITS;
const PACK_COLUMNS = 'p.bucket, p.part, p.count, p.nodes, p.base_at, p.base_batch, p.meta, p.keys';

/** The start of a query of packed rows (aliased `p`), with their outputs (a table of their own) or not. */
function selectPacks(withOutput: boolean | undefined): string {
  return withOutput
    ? `SELECT ${PACK_COLUMNS}, o.outputs FROM outcome_packs p
         LEFT JOIN outcome_outputs o ON o.run_id = p.run_id AND o.bucket = p.bucket AND o.part = p.part`
    : `SELECT ${PACK_COLUMNS} FROM outcome_packs p`;
}

/** What a scan of a run's packed outcomes keeps. */
export interface ScanQuery {
  /** Positions after this one only. */
  after?: number;
  /** A status code: rows without it are skipped by SQLite, the others filtered here. */
  status?: number;
  /** Outcomes that ended at this node, or (with `outputNode`) were kept by it. */
  nodeId?: string;
  /** Only outcomes a collect node kept (with their outputs decoded). */
  collected?: boolean;
  /** Decode the outputs. */
  withOutput?: boolean;
  limit: number;
}

/**
 * Reads a run's packed record outcomes (outcome-pack.mjs) for the queries: in position order from a
 * position on, at given positions, the first and the last. Every read is one range of
 * `outcome_packs_at` (run, bucket, part).
 */
export class OutcomePacks {
  private readonly sql: (text: string) => Database.Statement;

  constructor(c: Database.Database) {
    this.sql = preparedStatements(c);
  }

  /**
   * Outcomes in position order after `q.after`, that match the query, up to `q.limit` (and the rest
   * of the bucket the limit was reached in, so the caller can tell whether there are more).
   */
  scan(runId: number, q: ScanQuery): PackedOutcome[] {
    const select = selectPacks(q.withOutput || q.collected);
    const where = ['p.run_id = ?', 'p.bucket >= ?'];
    const args: (number | string)[] = [runId, q.after === undefined ? 0 : Math.floor((q.after + 1) / BUCKET)];
    if (q.status !== undefined) {
      where.push('p.statuses & ? <> 0');
      args.push(1 << q.status);
    }
    if (q.nodeId !== undefined) {
      // a row naming the node somewhere; the exact test is below
      where.push('instr(p.nodes, ?) > 0');
      args.push(JSON.stringify(q.nodeId));
    }
    const rows = this.sql(`${select} WHERE ${where.join(' AND ')} ORDER BY p.bucket, p.part`).iterate(
      ...args,
    ) as IterableIterator<PackRow>;
    // A row left out by the status or node test may hold the last write of a position that an earlier
    // part of its bucket, kept, holds too (a group written again): such a bucket is read whole.
    const filtered = q.status !== undefined || q.nodeId !== undefined;
    const partsOf = this.sql('SELECT COUNT(*) FROM outcome_packs WHERE run_id = ? AND bucket = ?').pluck();
    const wholeBucket = this.sql(`${select} WHERE p.run_id = ? AND p.bucket = ? ORDER BY p.part`);
    const out: PackedOutcome[] = [];
    const keep = (o: PackedOutcome) =>
      (q.after === undefined || o.seq > q.after) &&
      (q.status === undefined || o.status === q.status) &&
      (q.collected ? o.outputNode !== null && (q.nodeId === undefined || o.outputNode === q.nodeId) : true) &&
      (q.collected || q.nodeId === undefined || o.node === q.nodeId);
    let bucket = -1;
    let parts: PackedOutcome[][] = [];
    const flush = () => {
      if (filtered && parts.length && (partsOf.get(runId, bucket) as number) > parts.length)
        parts = (wholeBucket.all(runId, bucket) as PackRow[]).map(unpack);
      if (parts.length) for (const o of mergeParts(parts)) if (keep(o)) out.push(o);
      parts = [];
    };
    for (const row of rows) {
      if (row.bucket !== bucket) {
        flush();
        if (out.length >= q.limit) break;
        bucket = row.bucket;
      }
      parts.push(unpack(row));
    }
    flush(); // the last bucket, when the rows ran out before the limit
    return out;
  }

  /** The outcomes at these positions (those stored), by position. */
  at(runId: number, seqs: readonly number[], withOutput = false): Map<number, PackedOutcome> {
    const found = new Map<number, PackedOutcome>();
    const rows = this.sql(`${selectPacks(withOutput)} WHERE p.run_id = ? AND p.bucket = ? ORDER BY p.part`);
    const buckets = new Map<number, number[]>();
    for (const seq of seqs) {
      const b = Math.floor(seq / BUCKET);
      const list = buckets.get(b);
      if (list) list.push(seq);
      else buckets.set(b, [seq]);
    }
    for (const [b, wanted] of buckets) {
      const parts = rows.all(runId, b) as PackRow[];
      if (wanted.length === 1) {
        // one outcome: found in each part without unpacking the others (the last part that has it wins)
        const seq = wanted[0] as number;
        for (const part of parts) {
          const o = find(part, seq);
          if (o) found.set(seq, o);
        }
        continue;
      }
      const all = mergeParts(parts.map(unpack));
      const set = new Set(wanted);
      for (const o of all) if (set.has(o.seq)) found.set(o.seq, o);
    }
    return found;
  }

  /** The outcome with the largest position, or with the largest at or below `atMost`. */
  last(runId: number, atMost?: number): PackedOutcome | undefined {
    const bucket = atMost === undefined ? Number.MAX_SAFE_INTEGER : Math.floor(atMost / BUCKET);
    const rows = this.sql(
      `${selectPacks(false)} WHERE p.run_id = ? AND p.bucket <= ? ORDER BY p.bucket DESC, p.part DESC`,
    ).iterate(runId, bucket) as IterableIterator<PackRow>;
    let current = -1;
    let parts: PackedOutcome[][] = [];
    const best = () => {
      const all = mergeParts(parts.reverse()).filter((o) => atMost === undefined || o.seq <= atMost);
      return all[all.length - 1];
    };
    for (const row of rows) {
      if (row.bucket !== current && parts.length) {
        const found = best();
        if (found) return found;
        parts = [];
      }
      current = row.bucket;
      parts.push(unpack(row));
    }
    return parts.length ? best() : undefined;
  }

  /** The outcome with the smallest position. */
  first(runId: number): PackedOutcome | undefined {
    return this.scan(runId, { limit: 1 })[0];
  }

  /** Positions stored at or after `from`: what a resumed run must not settle again. */
  seqsFrom(runId: number, from: number): number[] {
    const rows = this.sql(`${selectPacks(false)} WHERE p.run_id = ? AND p.bucket >= ? ORDER BY p.bucket, p.part`).all(
      runId,
      Math.floor(from / BUCKET),
    ) as PackRow[];
    const seqs = new Set<number>();
    for (const row of rows) for (const o of unpack(row)) if (o.seq >= from) seqs.add(o.seq);
    return [...seqs];
  }

  /** Every stored outcome of a run, in position order (tests, the crash checks, the benchmark). */
  all(runId: number, withOutput = false): PackedOutcome[] {
    return this.scan(runId, { limit: Number.MAX_SAFE_INTEGER, withOutput });
  }
}

/** A stored outcome with every column, as one row per record (the layout before packing) showed it. */
export interface StoredOutcomeRow {
  seq: number;
  key: string;
  status: number;
  node_id: string;
  batch_no: number;
  attempts: number;
  error_id: number | null;
  payload: string | null;
  output: string | null;
  output_node: string | null;
  at: number;
}

/**
 * Every stored outcome of a run, in position order, each with its pack's fields and its detail row's
 * (error and payload): what the tests, the crash checks and the benchmark compare with what was sent.
 */
export function storedOutcomes(c: Database.Database, runId: number): StoredOutcomeRow[] {
  const details = new Map(
    (
      c.prepare('SELECT seq, error_id, payload FROM outcome_details WHERE run_id = ?').all(runId) as {
        seq: number;
        error_id: number | null;
        payload: string | null;
      }[]
    ).map((d) => [d.seq, d]),
  );
  return new OutcomePacks(c).all(runId, true).map((o) => ({
    seq: o.seq,
    key: o.key,
    status: o.status,
    node_id: o.node,
    batch_no: o.batch,
    attempts: o.attempts,
    error_id: details.get(o.seq)?.error_id ?? null,
    payload: details.get(o.seq)?.payload ?? null,
    output: o.output,
    output_node: o.outputNode,
    at: o.at,
  }));
}
