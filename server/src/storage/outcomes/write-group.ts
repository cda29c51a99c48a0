import type { BatchInfo, Checkpoint, RecordOutcome, RunCommit } from '@sluice/engine';
import { emptyRunCounts, type NodeCounts, type RecordError, type RecordStatus, type RunCounts } from '@sluice/shared';
import * as layout from './group-layout.mjs';
import type { WriteGroup } from './writer-protocol.js';

export type { WriteGroup };

// The layout's offsets as this module's own constants: V8 folds those into the packing loop, which
// runs once per outcome, but not imported bindings (they stay live); measured, packing took ~12% longer.
const {
  AT,
  ATTEMPTS,
  BATCH,
  ERROR,
  FIELDS,
  KEY_BYTES,
  NODE,
  NONE,
  OUTPUT_BYTES,
  OUTPUT_NODE,
  PAYLOAD_BYTES,
  SEQ,
  STATUS,
} = layout;

export const STATUS_CODE: Record<RecordStatus, number> = { succeeded: 0, filtered: 1, failed: 2, cancelled: 3 };
/** A stored status code's name. */
export const STATUS_NAME: RecordStatus[] = ['succeeded', 'filtered', 'failed', 'cancelled'];

/**
 * Gathers a run's commits into a `WriteGroup` as they come: each outcome is turned into numbers
 * and UTF-8 bytes at once, outside the JavaScript heap, so neither the engine's outcome objects nor
 * the JSON of their outputs outlive the commit, and the group crosses to the writer thread by
 * transfer rather than by copy.
 */
export class GroupBuilder {
  private rows: Float64Array;
  private text: Buffer;
  private textLength = 0;
  private collectedBytes = 0;
  private count = 0;
  private readonly names: string[] = [];
  private readonly nameIndex = new Map<string, number>();
  private readonly errors: RecordError[] = [];
  private readonly collected: WriteGroup['collected'] = [];
  private readonly batches: BatchInfo[] = [];
  private counts: RunCounts | undefined;
  private nodeCounts: Record<string, NodeCounts> = {};
  private checkpoint: Checkpoint | undefined;
  /** The last node named and its index (none yet: '' is a node id too, a record cancelled before any node). */
  private lastName: string | undefined;
  private lastIndex = -1;

  constructor(
    /** The stored JSON of payloads and collected outputs (capped; see stored-json.ts). */
    private readonly stored: {
      payload(payload: unknown): string;
      /** `failed`: the record's failed outcome, stored in the same group, whose payload and error the output may repeat. */
      output(output: unknown, failed: RecordOutcome | undefined): string;
    },
    capacity = 512,
  ) {
    this.rows = new Float64Array(capacity * FIELDS);
    this.text = Buffer.from(new ArrayBuffer(capacity * 256));
  }

  /** Outcomes and collected records gathered so far. */
  get size(): number {
    return this.count + this.collected.length;
  }

  /** Bytes of text gathered so far (keys, payloads, outputs, collected records). */
  get bytes(): number {
    return this.textLength + this.collectedBytes;
  }

  add(commit: RunCommit): void {
    const outcomes = commit.outcomes;
    let n = this.count;
    if ((n + outcomes.length) * FIELDS > this.rows.length) {
      const grown = new Float64Array(Math.max(this.rows.length * 2, (n + outcomes.length) * FIELDS));
      grown.set(this.rows);
      this.rows = grown;
    }
    const rows = this.rows;
    for (const o of outcomes) {
      const r = n * FIELDS;
      rows[r + SEQ] = o.seq;
      rows[r + STATUS] = STATUS_CODE[o.status];
      rows[r + NODE] = this.name(o.nodeId);
      rows[r + BATCH] = o.batchNo;
      rows[r + ATTEMPTS] = o.attempts;
      rows[r + AT] = o.at;
      rows[r + OUTPUT_NODE] = o.outputNode === undefined ? NONE : this.name(o.outputNode);
      rows[r + ERROR] = o.error ? this.errors.push(o.error) - 1 : NONE;
      // the strings go into `text` in the order the layout gives: key, payload, output
      rows[r + KEY_BYTES] = this.write(o.key);
      rows[r + PAYLOAD_BYTES] = o.payload === undefined ? NONE : this.write(this.stored.payload(o.payload));
      rows[r + OUTPUT_BYTES] =
        o.outputNode === undefined
          ? NONE
          : this.write(this.stored.output(o.output, o.status === 'failed' ? o : undefined));
      n++;
    }
    this.count = n;
    // a record kept by a second collect node: its failed outcome, if it settled in this commit, holds its payload and error
    const failed = commit.collected.length ? failedBySeq(outcomes) : undefined;
    for (const c of commit.collected) {
      const data = this.stored.output(c.data, failed?.get(c.seq));
      this.collectedBytes += Buffer.byteLength(data);
      this.collected.push({ nodeId: c.nodeId, seq: c.seq, key: c.key, data });
    }
    if (commit.batch) this.batches.push(commit.batch);
    this.counts = commit.counts;
    this.nodeCounts = commit.nodeCounts;
    this.checkpoint = commit.checkpoint;
  }

  /** The group to write; `epoch`: the lease epoch its writer holds (the group is refused if the run's is another). */
  finish(id: number, runId: number, epoch?: number): WriteGroup {
    const c = this.counts ?? emptyRunCounts();
    return {
      id,
      runId,
      ...(epoch === undefined ? {} : { epoch }),
      rows: this.rows,
      text: this.text.buffer as ArrayBuffer,
      count: this.count,
      names: this.names,
      errors: this.errors,
      collected: this.collected,
      batches: this.batches,
      counts: [c.read, c.succeeded, c.filtered, c.failed, c.cancelled],
      nodeCounts: JSON.stringify(this.nodeCounts),
      checkpoint: JSON.stringify(this.checkpoint ?? null),
    };
  }

  /** Appends a string's UTF-8 bytes to `text`, growing it when needed; returns their length. */
  private write(value: string): number {
    const room = this.text.length - this.textLength;
    if (value.length * 3 > room) {
      const need = this.textLength + value.length * 3;
      const grown = Buffer.from(new ArrayBuffer(Math.max(this.text.length * 2, need)));
      this.text.copy(grown, 0, 0, this.textLength);
      this.text = grown;
    }
    const bytes = this.text.write(value, this.textLength, 'utf8');
    this.textLength += bytes;
    return bytes;
  }

  private name(nodeId: string): number {
    if (nodeId === this.lastName) return this.lastIndex;
    let i = this.nameIndex.get(nodeId);
    if (i === undefined) {
      i = this.names.push(nodeId) - 1;
      this.nameIndex.set(nodeId, i);
    }
    this.lastName = nodeId;
    this.lastIndex = i;
    return i;
  }
}

function failedBySeq(outcomes: readonly RecordOutcome[]): Map<number, RecordOutcome> {
  const failed = new Map<number, RecordOutcome>();
  for (const o of outcomes) if (o.status === 'failed') failed.set(o.seq, o);
  return failed;
}
