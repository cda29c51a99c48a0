import { statfsSync } from 'node:fs';
import path from 'node:path';
import type { Checkpoint, RecordOutcome } from '@sluice/engine';
import { emptyRunCounts, type RecordError } from '@sluice/shared';
import type Database from 'better-sqlite3';
import { GroupBuilder, STATUS_NAME } from '../outcomes/write-group.js';
import { type Db, openDatabase } from './open.js';
import type { StoredOutcomeRow } from './outcome-store.js';
import { outcomeWriter } from './pack-writer.mjs';

/** The table migration 0007 renamed the outcomes stored before the packed layout to. */
export const LEGACY_TABLE = 'legacy_record_outcomes';

/** A row of the old table, with its error's text (an outcome stored a row each, as before packing). */
interface LegacyRow extends StoredOutcomeRow {
  message: string | null;
  code: string | null;
  http_status: number | null;
}

export interface ConvertOptions {
  /** A line about how far it is, every few seconds of a long conversion; stderr unless given. */
  progress?: (line: string) => void;
  /** Bytes free where the database is (for tests); measured on the file system unless given. */
  freeBytes?: number;
}

/** Thrown when the disk lacks the room the conversion needs; no outcome was moved. */
export class NotEnoughRoom extends Error {}

/**
 * Opens the database as the server and the CLI do: migrations applied, and the record outcomes stored
 * before the packed layout converted (once; a long conversion prints its progress).
 */
export function openStoreDatabase(file: string, options: ConvertOptions = {}): Db {
  const db = openDatabase(file);
  try {
    convertLegacyOutcomes(db.$client, options);
  } catch (err) {
    db.$client.close();
    throw err;
  }
  return db;
}

/** Outcomes per group, as the writer thread gets them. */
const GROUP = 2_000;
const PROGRESS_EVERY_MS = 2_000;

/**
 * Moves the record outcomes stored before the packed layout (a table per outcome, with three
 * indexes) into the packed tables, run by run, each run in a transaction of its own, then drops the
 * old table. A conversion cut short is done again at the next start: a run's packed rows left by it
 * are removed before the run is converted again. Refused, moving nothing, when the disk has less
 * room than the conversion may take (see `needed` below).
 */
export function convertLegacyOutcomes(
  c: Database.Database,
  options: ConvertOptions = {},
): { runs: number; outcomes: number } {
  const exists = c.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(LEGACY_TABLE);
  if (!exists) return { runs: 0, outcomes: 0 };
  const any = c.prepare(`SELECT 1 FROM ${LEGACY_TABLE} LIMIT 1`).get();
  if (!any) {
    c.exec(`DROP TABLE ${LEGACY_TABLE}`);
    return { runs: 0, outcomes: 0 };
  }
  // What the old outcomes take: the table and its indexes (its key index holds every key a second
  // time, as the packed tables' key index does).
  const pageSize = c.pragma('page_size', { simple: true }) as number;
  const indexes = c
    .prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?`)
    .pluck()
    .all(LEGACY_TABLE) as string[];
  const pagesOf = c.prepare('SELECT COUNT(*) FROM dbstat WHERE name = ?').pluck();
  const stored = [LEGACY_TABLE, ...indexes].reduce((sum, name) => sum + (pagesOf.get(name) as number), 0) * pageSize;
  const total = c.prepare(`SELECT COUNT(*) FROM ${LEGACY_TABLE}`).pluck().get() as number;
  const largest = c
    .prepare(`SELECT MAX(n) FROM (SELECT COUNT(*) AS n FROM ${LEGACY_TABLE} GROUP BY run_id)`)
    .pluck()
    .get() as number;
  // The packed rows take about what the old rows and their indexes take (less with outputs, a little
  // more with long keys), and the old pages are freed only at the end; a run is converted in one
  // transaction, so while it is, its packed rows are in the write-ahead log too. Room for all of them,
  // the largest run's once more, and a tenth to spare.
  const needed = Math.ceil(stored * (1 + largest / total) * 1.1);
  const file = c.name;
  const free = options.freeBytes ?? freeBytesAt(path.dirname(file));
  if (free < needed) {
    throw new NotEnoughRoom(
      `Sluice stores record outcomes in a new, packed layout, and converting the ${mb(stored)} MB of outcomes in ` +
        `${file} needs about ${mb(needed)} MB free on its disk; ${mb(free)} MB are free. No outcome was moved or lost: ` +
        'free some space (or move the data folder to a larger disk) and start Sluice again.',
    );
  }
  const report = options.progress ?? ((line: string) => process.stderr.write(`${line}\n`));
  const started = Date.now();
  let lastReport = started;
  report(`Converting ${total.toLocaleString('en-US')} stored record outcomes to the packed layout…`);

  const write = outcomeWriter(c);
  const runs = c.prepare(`SELECT DISTINCT run_id FROM ${LEGACY_TABLE} ORDER BY run_id`).pluck().all() as number[];
  const rowsOf = c.prepare(
    `SELECT o.seq, o.key, o.status, o.node_id, o.batch_no, o.attempts, o.error_id, o.payload, o.output, o.output_node,
       o.at, e.message, e.code, e.http_status
     FROM ${LEGACY_TABLE} o LEFT JOIN error_messages e ON e.id = o.error_id WHERE o.run_id = ? AND o.seq > ?
     ORDER BY o.seq LIMIT ?`,
  );
  const leftBehind = c.prepare('SELECT 1 FROM outcome_packs WHERE run_id = ? LIMIT 1');
  const errors = new Map<number, RecordError>();
  const errorIds = new Map<RecordError, number>();
  const errorOf = (r: LegacyRow): RecordError | undefined => {
    if (r.error_id === null || r.message === null) return undefined;
    let e = errors.get(r.error_id);
    if (!e) {
      e = {
        message: r.message,
        ...(r.code ? { code: r.code } : {}),
        ...(r.http_status ? { httpStatus: r.http_status } : {}),
      };
      errors.set(r.error_id, e);
      errorIds.set(e, r.error_id);
    }
    return e;
  };
  // the stored JSON goes in as it is: payloads and outputs were capped and wrapped when first stored
  const asStored = { payload: (p: unknown) => p as string, output: (o: unknown) => o as string };
  let done = 0;
  // said after each group rather than each run: a run of millions of outcomes is a long wait on its own
  const progress = () => {
    const now = Date.now();
    if (now - lastReport < PROGRESS_EVERY_MS) return;
    lastReport = now;
    report(
      `  ${done.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} (${Math.floor((done / total) * 100)}%)`,
    );
  };
  for (const runId of runs) {
    c.transaction(() => {
      if (leftBehind.get(runId)) {
        for (const t of ['outcome_packs', 'outcome_outputs', 'outcome_keys', 'outcome_details'])
          c.prepare(`DELETE FROM ${t} WHERE run_id = ?`).run(runId);
      }
      let group = new GroupBuilder(asStored);
      let outcomes: RecordOutcome[] = [];
      const flush = () => {
        if (!outcomes.length) return;
        group.add({ outcomes, collected: [], counts: emptyRunCounts(), nodeCounts: {}, checkpoint: {} as Checkpoint });
        const g = group.finish(0, runId);
        write(
          g,
          g.errors.map((e) => errorIds.get(e) ?? null),
        );
        done += outcomes.length;
        outcomes = [];
        group = new GroupBuilder(asStored);
        progress();
      };
      // a group's rows read in full before it is written: the connection cannot write while a query
      // of it is still being stepped through
      for (let after = -1; ; ) {
        const rows = rowsOf.all(runId, after, GROUP) as LegacyRow[];
        for (const r of rows) {
          const error = errorOf(r);
          outcomes.push({
            seq: r.seq,
            key: r.key,
            status: STATUS_NAME[r.status] ?? 'failed',
            nodeId: r.node_id,
            batchNo: r.batch_no,
            attempts: r.attempts,
            at: r.at,
            ...(error ? { error } : {}),
            ...(r.payload !== null ? { payload: r.payload } : {}),
            ...(r.output_node !== null && r.output !== null ? { output: r.output, outputNode: r.output_node } : {}),
          });
        }
        flush();
        if (rows.length < GROUP) break;
        after = (rows[rows.length - 1] as LegacyRow).seq;
      }
    })();
  }
  c.exec(`DROP TABLE ${LEGACY_TABLE}`);
  report(
    `Converted ${done.toLocaleString('en-US')} record outcomes of ${runs.length.toLocaleString('en-US')} runs in ${((Date.now() - started) / 1000).toFixed(1)} s.`,
  );
  // the write-ahead log keeps the size the largest run's transaction gave it: hand that room back
  c.pragma('wal_checkpoint(TRUNCATE)');
  return { runs: runs.length, outcomes: done };
}

function freeBytesAt(dir: string): number {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
}

const mb = (bytes: number) => Math.ceil(bytes / 1024 / 1024).toLocaleString('en-US');
