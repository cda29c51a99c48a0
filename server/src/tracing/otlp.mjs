// OTLP trace export requests in protobuf's binary encoding (`ExportTraceServiceRequest`, OTLP/HTTP's
// default `http/protobuf`), written from a chunk of the span log (span-log.ts): the export thread
// (export-thread.mjs) encodes here, off the run's thread. JavaScript, not TypeScript, because that
// thread imports it without a TypeScript loader; tsc checks it (allowJs + checkJs).
//
// Field numbers are those of opentelemetry-proto (`collector/trace/v1/trace_service.proto`,
// `trace/v1/trace.proto`, `common/v1/common.proto`, `resource/v1/resource.proto`); the tests decode
// what this writes with protobufjs from a copy of those definitions (test-support.ts).

/**
 * Ended spans as the span log keeps them. `nums`: STRIDE numbers a span: kind, name (a string's
 * index), trace id (a string's index), span id high and low halves, parent id halves (high -1: none),
 * start and end (ms since the epoch), status code (0: none), status message (index, -1: none),
 * tracestate (index, -1: none), first attribute, attribute count. `attrs`: three numbers an
 * attribute: key (index), type (0 number, 1 string by index, 2 boolean), value.
 * @typedef {{ count: number, nums: Float64Array, attrs: Float64Array, attrCount: number, strings: string[] }} SpanChunk
 */

/** Numbers a span takes in a chunk's `nums`. */
export const STRIDE = 14;

/**
 * Where an export request's spans come from.
 * @typedef {{ resource: Record<string, string | number | boolean>, scope: { name: string, version: string } }} Origin
 */

const VARINT = 0;
const FIXED64 = 1;
const LENGTH = 2;

/** @param {number} field @param {number} wire */
const tag = (field, wire) => (field << 3) | wire;

/** Longest string attribute value kept, in UTF-16 units (longer ones are cut, as OpenTelemetry's limits do). */
const MAX_STRING = 4096;

/** @param {number} c the code of a lower-case hex digit */
const nibble = (c) => (c <= 0x39 ? c - 0x30 : c - 0x57);

/** A growing byte buffer with protobuf's primitives. */
class Writer {
  /** @param {number} size */
  constructor(size) {
    this.buf = Buffer.allocUnsafe(size);
    this.pos = 0;
  }

  /** @param {number} bytes */
  ensure(bytes) {
    if (this.pos + bytes <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + bytes));
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buf = bigger;
  }

  /** @param {number} n a non-negative integer up to 2^53 */
  varint(n) {
    this.ensure(10);
    const buf = this.buf;
    while (n >= 0x80) {
      buf[this.pos++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    buf[this.pos++] = n;
  }

  /** A field's key; every field Sluice writes is numbered below 16: one byte. @param {number} field @param {number} wire */
  key(field, wire) {
    this.ensure(1);
    this.buf[this.pos++] = tag(field, wire);
  }

  /** @param {number} field @param {string} text */
  string(field, text) {
    this.key(field, LENGTH);
    const bytes = Buffer.byteLength(text, 'utf8');
    this.varint(bytes);
    this.ensure(bytes);
    this.pos += this.buf.write(text, this.pos, 'utf8');
  }

  /** A length-delimited field of bytes already encoded (a chunk's string, in UTF-8). @param {number} field @param {Uint8Array} bytes */
  bytes(field, bytes) {
    const n = bytes.length;
    this.key(field, LENGTH);
    this.varint(n);
    this.ensure(n);
    const buf = this.buf;
    let pos = this.pos;
    // the short strings of spans (names, keys, node ids) copy faster by hand than through a native call
    if (n < 64) for (let i = 0; i < n; i++) buf[pos++] = /** @type {number} */ (bytes[i]);
    else {
      buf.set(bytes, pos);
      pos += n;
    }
    this.pos = pos;
  }

  /** Raw bytes, no key (a trace id's prepared field). @param {Uint8Array} bytes */
  raw(bytes) {
    const n = bytes.length;
    this.ensure(n);
    const buf = this.buf;
    for (let i = 0; i < n; i++) buf[this.pos++] = /** @type {number} */ (bytes[i]);
  }

  /** A span id from its two 32-bit halves, big-endian as its hex reads. @param {number} field @param {number} hi @param {number} lo */
  id(field, hi, lo) {
    this.ensure(10);
    this.buf[this.pos++] = tag(field, LENGTH);
    this.buf[this.pos++] = 8;
    this.buf.writeUInt32BE(hi, this.pos);
    this.buf.writeUInt32BE(lo, this.pos + 4);
    this.pos += 8;
  }

  /** Milliseconds since the epoch (with a fraction) as protobuf `fixed64` nanoseconds, exactly. @param {number} field @param {number} ms */
  nanos(field, ms) {
    this.ensure(9);
    this.buf[this.pos++] = tag(field, FIXED64);
    const whole = Math.floor(ms);
    const frac = Math.min(999_999, Math.round((ms - whole) * 1e6));
    // nanoseconds pass 2^53: split the milliseconds at 2^20 so every product below stays exact
    const x = Math.floor(whole / 0x100000) * 1e6; // times 2^20 in the sum
    let lo = (x % 0x1000) * 0x100000 + ((whole % 0x100000) * 1e6 + frac);
    const hi = Math.floor(x / 0x1000) + Math.floor(lo / 0x100000000);
    lo %= 0x100000000;
    this.buf.writeUInt32LE(lo, this.pos);
    this.buf.writeUInt32LE(hi, this.pos + 4);
    this.pos += 8;
  }

  /** @param {number} field @param {number} value */
  double(field, value) {
    this.ensure(9);
    this.buf[this.pos++] = tag(field, FIXED64);
    this.buf.writeDoubleLE(value, this.pos);
    this.pos += 8;
  }

  /** Opens a length-delimited field; `close` writes its length once its content is written. @param {number} field */
  open(field) {
    this.key(field, LENGTH);
    this.ensure(1);
    return this.pos++;
  }

  /** Writes the length of the field opened at `at`, moving its content when the length needs more than a byte. @param {number} at */
  close(at) {
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

/**
 * A chunk's strings encoded once each, as the chunk's spans name them again and again: UTF-8 bytes
 * (an attribute's value cut to `MAX_STRING` first), and a trace id's field (key 1, 16 bytes) made once.
 */
class Strings {
  /** @param {string[]} strings */
  constructor(strings) {
    this.strings = strings;
    /** @type {(Uint8Array | undefined)[]} */
    this.utf8 = new Array(strings.length);
    /** @type {(Uint8Array | undefined)[]} */
    this.values = new Array(strings.length);
    /** @type {(Uint8Array | undefined)[]} */
    this.traceIds = new Array(strings.length);
  }

  /** @param {number} ref */
  text(ref) {
    return /** @type {string} */ (this.strings[ref]);
  }

  /** @param {number} ref */
  bytes(ref) {
    let bytes = this.utf8[ref];
    if (!bytes) {
      bytes = Buffer.from(this.text(ref), 'utf8');
      this.utf8[ref] = bytes;
    }
    return bytes;
  }

  /** An attribute's string value, cut to MAX_STRING UTF-16 units. @param {number} ref */
  value(ref) {
    const text = this.text(ref);
    if (text.length <= MAX_STRING) return this.bytes(ref);
    let bytes = this.values[ref];
    if (!bytes) {
      bytes = Buffer.from(text.slice(0, MAX_STRING), 'utf8');
      this.values[ref] = bytes;
    }
    return bytes;
  }

  /** The Span's trace_id field (1) for a trace id given as hex. @param {number} ref */
  traceId(ref) {
    let field = this.traceIds[ref];
    if (!field) {
      const hex = this.text(ref);
      const n = hex.length >> 1;
      field = new Uint8Array(2 + n);
      field[0] = tag(1, LENGTH);
      field[1] = n;
      for (let i = 0; i < n; i++)
        field[2 + i] = (nibble(hex.charCodeAt(2 * i)) << 4) | nibble(hex.charCodeAt(2 * i + 1));
      this.traceIds[ref] = field;
    }
    return field;
  }
}

/**
 * A span's KeyValue (9) from a chunk's attribute: key 1; value 2, an AnyValue: string_value 1,
 * bool_value 2, int_value 3, double_value 4.
 * @param {Writer} w @param {Strings} strings @param {number} key a string's index @param {number} type 0 number, 1 string, 2 boolean @param {number} raw
 */
function attribute(w, strings, key, type, raw) {
  const keyBytes = strings.bytes(key);
  if (type === 0 && Number.isSafeInteger(raw) && raw >= 0 && raw < 0x10000000 && keyBytes.length < 0x70) {
    // the common case, a count under a short key: every length fits a byte, written straight
    const size = raw < 0x80 ? 1 : raw < 0x4000 ? 2 : raw < 0x200000 ? 3 : 4;
    const any = 1 + size;
    w.ensure(6 + keyBytes.length + any);
    const buf = w.buf;
    buf[w.pos++] = tag(9, LENGTH);
    buf[w.pos++] = 2 + keyBytes.length + 2 + any;
    w.bytes(1, keyBytes);
    buf[w.pos++] = tag(2, LENGTH);
    buf[w.pos++] = any;
    buf[w.pos++] = tag(3, VARINT);
    w.varint(raw);
    return;
  }
  const kv = w.open(9);
  w.bytes(1, keyBytes);
  const any = w.open(2);
  if (type === 1) w.bytes(1, strings.value(raw));
  else if (type === 2) {
    w.key(2, VARINT);
    w.varint(raw === 1 ? 1 : 0);
  } else if (Number.isSafeInteger(raw) && raw >= 0) {
    w.key(3, VARINT);
    w.varint(raw);
  } else w.double(4, raw);
  w.close(any);
  w.close(kv);
}

/** A KeyValue (key 1, value 2: AnyValue string_value 1, bool_value 2, int_value 3, double_value 4). @param {Writer} w @param {number} field @param {string} key @param {string | number | boolean} value */
function keyValue(w, field, key, value) {
  const kv = w.open(field);
  w.string(1, key);
  const any = w.open(2);
  if (typeof value === 'string') w.string(1, value.length > MAX_STRING ? value.slice(0, MAX_STRING) : value);
  else if (typeof value === 'boolean') {
    w.key(2, VARINT);
    w.varint(value ? 1 : 0);
  } else if (Number.isSafeInteger(value) && value >= 0) {
    w.key(3, VARINT);
    w.varint(value);
  } else w.double(4, value);
  w.close(any);
  w.close(kv);
}

/**
 * One export request with the chunk's spans.
 * @param {Origin} origin
 * @param {SpanChunk} chunk
 * @returns {Buffer}
 */
export function encodeRequest(origin, chunk) {
  const { nums, attrs, strings } = chunk;
  const w = new Writer(64 + chunk.count * 256);
  // ExportTraceServiceRequest.resource_spans 1 → ResourceSpans: resource 1 (attributes 1), scope_spans 2
  // → ScopeSpans: scope 1 (name 1, version 2), spans 2
  const resourceSpans = w.open(1);
  const resource = w.open(1);
  for (const [key, value] of Object.entries(origin.resource)) keyValue(w, 1, key, value);
  w.close(resource);
  const scopeSpans = w.open(2);
  const scope = w.open(1);
  w.string(1, origin.scope.name);
  w.string(2, origin.scope.version);
  w.close(scope);
  const text = new Strings(strings);
  for (let i = 0; i < chunk.count; i++) {
    const o = i * STRIDE;
    // Span: trace_id 1, span_id 2, trace_state 3, parent_span_id 4, name 5, kind 6, start 7, end 8,
    // attributes 9, status 15 (message 2, code 3)
    const span = w.open(2);
    w.raw(text.traceId(/** @type {number} */ (nums[o + 2])));
    w.id(2, /** @type {number} */ (nums[o + 3]), /** @type {number} */ (nums[o + 4]));
    const traceState = /** @type {number} */ (nums[o + 11]);
    if (traceState >= 0) w.bytes(3, text.bytes(traceState));
    const parentHi = /** @type {number} */ (nums[o + 5]);
    if (parentHi >= 0) w.id(4, parentHi, /** @type {number} */ (nums[o + 6]));
    w.bytes(5, text.bytes(/** @type {number} */ (nums[o + 1])));
    w.key(6, VARINT);
    w.varint(/** @type {number} */ (nums[o]));
    w.nanos(7, /** @type {number} */ (nums[o + 7]));
    w.nanos(8, /** @type {number} */ (nums[o + 8]));
    const first = /** @type {number} */ (nums[o + 12]);
    const count = /** @type {number} */ (nums[o + 13]);
    for (let a = first * 3; a < (first + count) * 3; a += 3)
      attribute(
        w,
        text,
        /** @type {number} */ (attrs[a]),
        /** @type {number} */ (attrs[a + 1]),
        /** @type {number} */ (attrs[a + 2]),
      );
    const code = /** @type {number} */ (nums[o + 9]);
    if (code > 0) {
      const status = w.open(15);
      const message = /** @type {number} */ (nums[o + 10]);
      if (message >= 0) w.bytes(2, text.bytes(message));
      w.key(3, VARINT);
      w.varint(code);
      w.close(status);
    }
    w.close(span);
  }
  w.close(scopeSpans);
  w.close(resourceSpans);
  return w.buf.subarray(0, w.pos);
}
