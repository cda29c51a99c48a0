import type { BatchInfo } from '@sluice/engine';
import type { RecordError } from '@sluice/shared';

/*
 * What the run store (storage/sqlite/run-store.ts) and its writer thread (outcome-writer.mjs) say to each
 * other. Types only: the thread is plain JavaScript, type-checked against these through JSDoc, and
 * where each number of a packed outcome sits is group-layout.mjs, which both sides import.
 */

/** What the writer thread is started with (`workerData`). */
export interface WriterData {
  /** The database file; the thread opens a connection of its own. */
  file: string;
  /** The pragmas every connection runs first (CONNECTION_PRAGMAS in storage/sqlite/open.ts). */
  pragmas: readonly string[];
}

/**
 * A group of a run's commits as the writer thread takes it: the outcomes column by column (numbers
 * in one transferable array, laid out as group-layout.mjs says; their strings in one UTF-8 buffer),
 * node ids named once, and the counts and checkpoint of the group's last commit.
 */
export interface WriteGroup {
  id: number;
  runId: number;
  /**
   * The lease epoch of the process that made the group (storage/port.ts, fencing): the group is
   * written only while it is still the run's, checked in the group's own savepoint. Absent: not
   * fenced (a run this process was not given a lease epoch for).
   */
  epoch?: number;
  /** FIELDS numbers per outcome, at the offsets group-layout.mjs names; may have room past `count`. */
  rows: Float64Array;
  /** Per outcome, one after the other, in UTF-8: its key, its payload's JSON, its output's JSON. */
  text: ArrayBuffer;
  /** Outcomes in the group. */
  count: number;
  /** Node ids; an outcome's node and output node are indexes into it. */
  names: string[];
  /** Errors; an outcome's error is an index into it. */
  errors: RecordError[];
  collected: { nodeId: string; seq: number; key: string; data: string }[];
  batches: BatchInfo[];
  /** read, succeeded, filtered, failed, cancelled */
  counts: [number, number, number, number, number];
  /** JSON of the run's per-node counts. */
  nodeCounts: string;
  /** JSON of the run's checkpoint. */
  checkpoint: string;
}

/**
 * From the run store: a group to write (its `rows` and `text` transferred, not copied); a run whose
 * refusal is over (it ended), so the thread takes its groups again; or 'close' (write what is open, stop).
 */
export type ToWriter = WriteGroup | { forget: number } | 'close';

/**
 * From the writer: ready once it has opened the database and prepared its statements; then, for
 * groups, written (in one transaction) or, with `error`, refused or rolled back.
 */
export type FromWriter = { ready: true } | { written: number[]; error?: string; leaseLost?: boolean };
