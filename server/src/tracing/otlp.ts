import type { Attributes, AttributeValue, SpanRecord } from './spans.js';

/**
 * OTLP trace export requests in protobuf's binary encoding (`ExportTraceServiceRequest`, the OTLP/HTTP
 * default `http/protobuf`), written as each span ends straight into the buffer of the request it will
 * go in: an ended span leaves nothing behind for the garbage collector, and its encoding costs about
 * a microsecond. (Spans kept as objects until a batch of them is encoded outlive the young
 * generation and are copied and collected with the old: in a million-record run that, with
 * encoding 60,000 spans as OTLP JSON, was a quarter of the run; docs/benchmarks.md.)
 *
 * Field numbers are those of opentelemetry-proto (`collector/trace/v1/trace_service.proto`,
 * `trace/v1/trace.proto`, `common/v1/common.proto`, `resource/v1/resource.proto`); the tests decode
 * what this writes with protobufjs from a copy of those definitions.
 */

const VARINT = 0;
const FIXED64 = 1;
const LENGTH = 2;

const tag = (field: number, wire: number) => (field << 3) | wire;

/** Longest string attribute value kept (bytes of UTF-16 text; longer ones are cut, as OpenTelemetry's limits do). */
const MAX_STRING = 4096;
const CHUNK = 256 * 1024;

/** The value of a lower-case hex digit's character code. */
const nibble = (c: number) => (c <= 0x39 ? c - 0x30 : c - 0x57);

/** A growing byte buffer with protobuf's primitives. */
class Writer {
  buf = Buffer.allocUnsafe(CHUNK);
  pos = 0;

  ensure(bytes: number): void {
    if (this.pos + bytes <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + bytes));
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buf = bigger;
  }

  varint(n: number): void {
    this.ensure(10);
    const { buf } = this;
    if (n < 0x80) {
      buf[this.pos++] = n;
      return;
    }
    while (n >= 0x80) {
      buf[this.pos++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    buf[this.pos++] = n;
  }

  /** A field's key (tag); every tag Sluice writes is below 128: one byte. */
  key(field: number, wire: number): void {
    this.ensure(1);
    this.buf[this.pos++] = tag(field, wire);
  }

  string(field: number, text: string): void {
    const max = text.length * 3;
    this.key(field, LENGTH);
    const n = text.length;
    if (n < 0x80) {
      // short ASCII text (names, keys, ids: nearly every string here) byte by byte: cheaper than
      // Buffer's write, which checks its arguments and crosses into C++ for a few bytes
      this.ensure(1 + n);
      const { buf } = this;
      let p = this.pos + 1;
      let i = 0;
      for (; i < n; i++) {
        const c = text.charCodeAt(i);
        if (c >= 0x80) break;
        buf[p++] = c;
      }
      if (i === n) {
        buf[this.pos] = n;
        this.pos = p;
        return;
      }
    }
    if (max < 0x80) {
      // at most 127 bytes whatever the characters: a one-byte length, filled in after
      this.ensure(1 + max);
      const at = this.pos++;
      const n = this.buf.write(text, this.pos, 'utf8');
      this.buf[at] = n;
      this.pos += n;
      return;
    }
    const bytes = Buffer.byteLength(text, 'utf8');
    this.varint(bytes);
    this.ensure(bytes);
    this.pos += this.buf.write(text, this.pos, 'utf8');
  }

  /** Bytes given as lower-case hex (an id Sluice made or checked). */
  hex(field: number, hex: string): void {
    const n = hex.length >> 1;
    this.ensure(2 + n);
    const { buf } = this;
    buf[this.pos++] = tag(field, LENGTH);
    buf[this.pos++] = n;
    for (let i = 0; i < n; i++)
      buf[this.pos++] = (nibble(hex.charCodeAt(2 * i)) << 4) | nibble(hex.charCodeAt(2 * i + 1));
  }

  /** Milliseconds since the epoch (with a fraction) as protobuf `fixed64` nanoseconds, exactly. */
  nanos(field: number, ms: number): void {
    this.ensure(9);
    this.buf[this.pos++] = tag(field, FIXED64);
    const whole = Math.floor(ms);
    const frac = Math.min(999_999, Math.round((ms - whole) * 1e6));
    // nanoseconds pass 2^53: split the milliseconds at 2^20 so every product below stays exact
    const high = Math.floor(whole / 0x100000);
    const x = high * 1e6; // times 2^20 in the sum
    let lo = (x % 0x1000) * 0x100000 + ((whole % 0x100000) * 1e6 + frac);
    const hi = Math.floor(x / 0x1000) + Math.floor(lo / 0x100000000);
    lo %= 0x100000000;
    this.buf.writeUInt32LE(lo, this.pos);
    this.buf.writeUInt32LE(hi, this.pos + 4);
    this.pos += 8;
  }

  double(field: number, value: number): void {
    this.ensure(9);
    this.buf[this.pos++] = tag(field, FIXED64);
    this.buf.writeDoubleLE(value, this.pos);
    this.pos += 8;
  }

  /** Opens a length-delimited field; `close` writes its length once its content is written. */
  open(field: number): number {
    this.key(field, LENGTH);
    this.ensure(1);
    return this.pos++;
  }

  /** Writes the length of the field opened at `at`, moving its content when the length needs more than one byte. */
  close(at: number): void {
    const length = this.pos - at - 1;
    if (length < 0x80) {
      this.buf[at] = length;
      return;
    }
    let extra = 1;
    while (length >= 0x80 ** (extra + 1)) extra++;
    this.ensure(extra);
    this.buf.copyWithin(at + 1 + extra, at + 1, this.pos);
    this.pos += extra;
    let n = length;
    let p = at;
    while (n >= 0x80) {
      this.buf[p++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.buf[p] = n;
  }
}

function attributeValue(w: Writer, value: AttributeValue): void {
  // AnyValue: string_value 1, bool_value 2, int_value 3, double_value 4
  if (typeof value === 'string') w.string(1, value.length > MAX_STRING ? value.slice(0, MAX_STRING) : value);
  else if (typeof value === 'boolean') {
    w.key(2, VARINT);
    w.varint(value ? 1 : 0);
  } else if (Number.isSafeInteger(value) && value >= 0) {
    w.key(3, VARINT);
    w.varint(value);
  } else w.double(4, value);
}

/**
 * The start of a KeyValue's content for each attribute key seen (its key field and the value
 * field's tag), which every span repeats: copied, not encoded again. Keys are Sluice's own and the
 * HTTP conventions' (a few dozen); the cache is emptied if it ever grows past a bound.
 */
const keyPrefixes = new Map<string, Uint8Array>();
const MAX_KEYS = 1024;

function keyPrefix(key: string): Uint8Array | undefined {
  let prefix = keyPrefixes.get(key);
  if (prefix) return prefix;
  const bytes = Buffer.from(key, 'utf8');
  // a key and its value in a one-byte length: keys up to 100 bytes
  if (bytes.length > 100) return undefined;
  prefix = new Uint8Array(bytes.length + 3);
  prefix[0] = tag(1, LENGTH);
  prefix[1] = bytes.length;
  prefix.set(bytes, 2);
  prefix[bytes.length + 2] = tag(2, LENGTH);
  if (keyPrefixes.size >= MAX_KEYS) keyPrefixes.clear();
  keyPrefixes.set(key, prefix);
  return prefix;
}

/** The bytes of a varint. */
const varintSize = (n: number) => (n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5);

function attributes(w: Writer, field: number, attrs: Attributes): void {
  for (const key in attrs) {
    const value = attrs[key];
    if (value === undefined) continue;
    // a counter (nearly every attribute): KeyValue { key, value: AnyValue { int_value } } from the key's prefix
    if (typeof value === 'number' && value >= 0 && value < 0x10000000 && Number.isInteger(value)) {
      const prefix = keyPrefix(key);
      if (prefix) {
        const any = 1 + varintSize(value);
        w.ensure(prefix.length + any + 3);
        const { buf } = w;
        buf[w.pos++] = tag(field, LENGTH);
        buf[w.pos++] = prefix.length + 1 + any;
        for (let i = 0; i < prefix.length; i++) buf[w.pos++] = prefix[i] as number;
        buf[w.pos++] = any;
        buf[w.pos++] = tag(3, VARINT);
        w.varint(value);
        continue;
      }
    }
    // KeyValue: key 1, value 2
    const kv = w.open(field);
    w.string(1, key);
    const any = w.open(2);
    attributeValue(w, value);
    w.close(any);
    w.close(kv);
  }
}

function span(w: Writer, s: SpanRecord): void {
  // ScopeSpans.spans 2; Span: trace_id 1, span_id 2, trace_state 3, parent_span_id 4, name 5, kind 6,
  // start 7, end 8, attributes 9, status 15 (message 2, code 3), flags 16 (fixed32)
  const at = w.open(2);
  w.hex(1, s.traceId);
  w.hex(2, s.spanId);
  if (s.traceState) w.string(3, s.traceState);
  if (s.parentSpanId) w.hex(4, s.parentSpanId);
  w.string(5, s.name);
  w.key(6, VARINT);
  w.varint(s.kind);
  w.nanos(7, s.start);
  w.nanos(8, s.end);
  attributes(w, 9, s.attributes);
  if (s.status) {
    const status = w.open(15);
    if (s.status.message !== undefined) w.string(2, s.status.message);
    w.key(3, VARINT);
    w.varint(s.status.code);
    w.close(status);
  }
  w.close(at);
}

/** What an export request says of where its spans come from. */
export interface Origin {
  resource: Attributes;
  scope: { name: string; version: string };
}

/** One export request being filled: its spans written as they end. */
export class RequestBuilder {
  private readonly w = new Writer();
  private readonly spansStart: number;
  private readonly resourceSpans: number;
  private readonly scopeSpans: number;
  count = 0;

  constructor(origin: Origin) {
    const { w } = this;
    // ExportTraceServiceRequest.resource_spans 1 → ResourceSpans: resource 1 (attributes 1), scope_spans 2
    // → ScopeSpans: scope 1 (name 1, version 2), spans 2
    this.resourceSpans = w.open(1);
    const resource = w.open(1);
    attributes(w, 1, origin.resource);
    w.close(resource);
    this.scopeSpans = w.open(2);
    const scope = w.open(1);
    w.string(1, origin.scope.name);
    w.string(2, origin.scope.version);
    w.close(scope);
    this.spansStart = w.pos;
  }

  add(s: SpanRecord): void {
    span(this.w, s);
    this.count++;
  }

  /** Bytes written so far. */
  get size(): number {
    return this.w.pos - this.spansStart;
  }

  /** The finished request (the builder is not to be used after). */
  finish(): Buffer {
    const { w } = this;
    w.close(this.scopeSpans);
    w.close(this.resourceSpans);
    return w.buf.subarray(0, w.pos);
  }
}
