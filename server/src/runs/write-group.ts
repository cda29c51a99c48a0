import type { BatchInfo, Checkpoint, RunCommit } from '@sluice/engine';
import { emptyRunCounts, type NodeCounts, type RecordError, type RecordStatus, type RunCounts } from '@sluice/shared';

/** Numbers per outcome in a group's `rows`. */
export const FIELDS = 11;

export const STATUS_CODE: Record<RecordStatus, number> = { succeeded: 0, filtered: 1, failed: 2, cancelled: 3 };

/**
 * A group of a run's commits as the writer thread takes it: the outcomes column by column (numbers
 * in one transferable array, strings in arrays), node ids named once, and the counts and
 * checkpoint of the group's last commit.
 */
export interface WriteGroup {
  id: number;
  runId: number;
  /**
   * Per outcome: seq, status code, node, batch, attempts, at, output node | -1, error | -1, then the
   * byte lengths in `text` of its payload's JSON (-1: none), of its key, and of its output's JSON
   * (-1: none).
   */
  rows: Float64Array;
  /** Per outcome, one after the other, in UTF-8: its key, its payload's JSON, its output's JSON. */
  text: ArrayBuffer;
  /** Outcomes in the group (`rows` and `text` may have room past them). */
  count: number;
  names: string[];
  errors: RecordError[];
  collected: { nodeId: string; seq: number; key: string; data: string }[];
  batches: BatchInfo[];
  /** read, succeeded, filtered, failed, cancelled */
  counts: number[];
  nodeCounts: string;
  checkpoint: string;
}

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
  private lastName = '';
  private lastIndex = -1;

  constructor(
    private readonly payloadJson: (payload: unknown) => string,
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
      rows[r] = o.seq;
      rows[r + 1] = STATUS_CODE[o.status];
      rows[r + 2] = this.name(o.nodeId);
      rows[r + 3] = o.batchNo;
      rows[r + 4] = o.attempts;
      rows[r + 5] = o.at;
      rows[r + 6] = o.outputNode === undefined ? -1 : this.name(o.outputNode);
      rows[r + 7] = o.error ? this.errors.push(o.error) - 1 : -1;
      rows[r + 9] = this.write(o.key);
      rows[r + 8] = o.payload === undefined ? -1 : this.write(this.payloadJson(o.payload));
      rows[r + 10] = o.outputNode === undefined ? -1 : this.write(JSON.stringify(o.output) ?? 'null');
      n++;
    }
    this.count = n;
    for (const c of commit.collected) {
      const data = JSON.stringify(c.data) ?? 'null';
      this.collectedBytes += Buffer.byteLength(data);
      this.collected.push({ nodeId: c.nodeId, seq: c.seq, key: c.key, data });
    }
    if (commit.batch) this.batches.push(commit.batch);
    this.counts = commit.counts;
    this.nodeCounts = commit.nodeCounts;
    this.checkpoint = commit.checkpoint;
  }

  finish(id: number, runId: number): WriteGroup {
    const c = this.counts ?? emptyRunCounts();
    return {
      id,
      runId,
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
