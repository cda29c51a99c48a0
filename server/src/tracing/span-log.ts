import { type SpanChunk, STRIDE } from './otlp.mjs';
import type { SpanRecord } from './spans.js';

export type { SpanChunk } from './otlp.mjs';

/**
 * Ended spans on their way to the export thread, as numbers in typed arrays (`STRIDE` per span, three
 * per attribute) and their strings named once per chunk: copying a span here costs the run's thread
 * a few hundred nanoseconds and leaves no object behind, and a full chunk's arrays are handed to the
 * thread without a copy. The thread writes them as OTLP protobuf (`otlp.mjs`).
 */
export class SpanLog {
  private nums: Float64Array;
  private attrs: Float64Array;
  private strings: string[] = [];
  private readonly refs = new Map<string, number>();
  private attrCount = 0;
  count = 0;

  constructor(private readonly capacity: number) {
    this.nums = new Float64Array(capacity * STRIDE);
    // room for eight attributes a span; more grows it
    this.attrs = new Float64Array(capacity * 8 * 3);
  }

  get full(): boolean {
    return this.count >= this.capacity;
  }

  add(s: SpanRecord): void {
    const n = this.nums;
    const o = this.count * STRIDE;
    n[o] = s.kind;
    n[o + 1] = this.ref(s.name);
    n[o + 2] = this.ref(s.traceId);
    n[o + 3] = s.idHi;
    n[o + 4] = s.idLo;
    n[o + 5] = s.parentHi;
    n[o + 6] = s.parentLo;
    n[o + 7] = s.start;
    n[o + 8] = s.end;
    n[o + 9] = s.status ? s.status.code : 0;
    n[o + 10] = s.status?.message !== undefined ? this.ref(s.status.message) : -1;
    n[o + 11] = s.traceState ? this.ref(s.traceState) : -1;
    n[o + 12] = this.attrCount;
    let count = 0;
    const attributes = s.attributes;
    for (const key in attributes) {
      const value = attributes[key];
      if (value === undefined) continue;
      if ((this.attrCount + 1) * 3 > this.attrs.length) this.grow();
      const a = this.attrCount * 3;
      const attrs = this.attrs;
      attrs[a] = this.ref(key);
      if (typeof value === 'number') {
        attrs[a + 1] = 0;
        attrs[a + 2] = value;
      } else if (typeof value === 'string') {
        attrs[a + 1] = 1;
        attrs[a + 2] = this.ref(value);
      } else {
        attrs[a + 1] = 2;
        attrs[a + 2] = value ? 1 : 0;
      }
      this.attrCount++;
      count++;
    }
    n[o + 13] = count;
    this.count++;
  }

  /** The chunk as it stands (the log is not to be used after). */
  finish(): SpanChunk {
    return { count: this.count, nums: this.nums, attrs: this.attrs, attrCount: this.attrCount, strings: this.strings };
  }

  private ref(text: string): number {
    let ref = this.refs.get(text);
    if (ref === undefined) {
      ref = this.strings.length;
      this.strings.push(text);
      this.refs.set(text, ref);
    }
    return ref;
  }

  private grow(): void {
    const bigger = new Float64Array(this.attrs.length * 2);
    bigger.set(this.attrs);
    this.attrs = bigger;
  }
}
