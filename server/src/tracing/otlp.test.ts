import { describe, expect, it } from 'vitest';
import { encodeRequest } from './otlp.mjs';
import { SpanLog } from './span-log.js';
import {
  contextOf,
  newTraceId,
  parseTraceparent,
  SpanKind,
  type SpanRecord,
  STATUS_ERROR,
  spanIdHex,
  startSpan,
} from './spans.js';
import { decodeExportRequest } from './test-support.js';

const origin = {
  resource: { 'service.name': 'sluice', 'service.version': '0.1.0' },
  scope: { name: 'sluice', version: '0.1.0' },
};

/** An attribute of each type OTLP's AnyValue carries that Sluice writes, and the edges of each. */
const everyType = {
  text: 'ünïcode ✓ 日本',
  empty: '',
  count: 42,
  big: 2 ** 53 - 1,
  negative: -3,
  ratio: 0.25,
  yes: true,
  no: false,
};

/** Spans through the span log and the export thread's encoder, read back as a collector reads them. */
function encode(spans: SpanRecord[]) {
  const log = new SpanLog(spans.length);
  for (const s of spans) log.add(s);
  expect(log.full).toBe(true);
  return decodeExportRequest(encodeRequest(origin, log.finish()));
}

const hexOf = (s: SpanRecord | undefined) => (s ? spanIdHex(s.idHi, s.idLo) : undefined);

describe('OTLP protobuf export requests', () => {
  it('writes what protobufjs reads back: ids, names, kinds, nanosecond times exact to the millisecond fraction given, every attribute type, status', () => {
    const parent = startSpan(
      'run Orders',
      SpanKind.INTERNAL,
      undefined,
      { 'sluice.run.id': 'r1' },
      1_764_000_000_123.25,
    );
    parent.end = 1_764_000_005_000.125;
    const child = startSpan(
      'POST',
      SpanKind.CLIENT,
      { ...contextOf(parent), traceState: 'vendor=a' },
      { ...everyType },
      1_764_000_001_000,
    );
    child.end = 1_764_000_001_000.5;
    child.status = { code: STATUS_ERROR, message: 'the system answered 503' };
    const request = encode([parent, child]);
    expect(request.resource).toEqual(origin.resource);
    expect(request.scope).toEqual(origin.scope);
    const [run, post] = request.spans;
    expect(run).toMatchObject({
      traceId: parent.traceId,
      spanId: hexOf(parent),
      parentSpanId: undefined,
      name: 'run Orders',
      kind: 1,
    });
    expect(run?.startNanos).toBe(1_764_000_000_123_250_000n);
    expect(run?.endNanos).toBe(1_764_000_005_000_125_000n);
    expect(run?.attributes).toEqual({ 'sluice.run.id': 'r1' });
    expect(run?.status).toBeUndefined();
    expect(post).toMatchObject({
      traceId: parent.traceId,
      parentSpanId: hexOf(parent),
      traceState: 'vendor=a',
      name: 'POST',
      kind: 3,
    });
    expect(post?.startNanos).toBe(1_764_000_001_000_000_000n);
    expect(post?.endNanos).toBe(1_764_000_001_000_500_000n);
    expect(post?.attributes).toEqual(everyType);
    expect(post?.status).toEqual({ code: STATUS_ERROR, message: 'the system answered 503' });
  });

  it('writes fields whose length takes two and three bytes, and cuts a long attribute at 4,096 characters', () => {
    const long = 'x'.repeat(300);
    const longer = 'é'.repeat(10_000);
    const s = startSpan(`node ${long}`, SpanKind.INTERNAL, undefined, { long, longer }, 5);
    s.end = 6;
    const [span] = encode([s]).spans;
    expect(span?.name).toBe(`node ${long}`);
    expect(span?.attributes.long).toBe(long);
    expect(span?.attributes.longer).toBe('é'.repeat(4096));
  });

  it('writes counts at every varint length, under short and long keys, as the same numbers', () => {
    const counts: Record<string, number> = {};
    const values = [
      0,
      1,
      127,
      128,
      16_383,
      16_384,
      2_097_151,
      2_097_152,
      268_435_455,
      268_435_456,
      2 ** 40,
      2 ** 53 - 1,
    ];
    for (const v of values) counts[`n${v}`] = v;
    const longKey = `k${'e'.repeat(200)}`;
    counts[longKey] = 300;
    const s = startSpan('node counts', SpanKind.INTERNAL, undefined, counts, 5);
    s.end = 6;
    const [span] = encode([s]).spans;
    expect(span?.attributes).toEqual(counts);
  });

  it('holds thousands of spans in one request', () => {
    const trace = newTraceId();
    const spans = Array.from({ length: 5000 }, (_, i) => {
      const s = startSpan(
        'batch',
        SpanKind.INTERNAL,
        { traceId: trace, idHi: 1, idLo: i + 1, traceState: undefined, sampled: true },
        { 'sluice.batch.no': i },
        i,
      );
      s.end = i + 1;
      return s;
    });
    const decoded = encode(spans).spans;
    expect(decoded).toHaveLength(5000);
    expect(decoded.map((d) => d.attributes['sluice.batch.no'])).toEqual(spans.map((_, i) => i));
    expect(decoded[4999]?.spanId).toBe(hexOf(spans[4999]));
    expect(decoded[4999]?.parentSpanId).toBe('0000000100001388');
  });
});

describe('traceparent', () => {
  const id = '0af7651916cd43dd8448eb211c80319c';
  it('reads a valid header, sampled or not, with its tracestate', () => {
    expect(parseTraceparent(`00-${id}-b7ad6b7169203331-01`, ' k=v ')).toEqual({
      traceId: id,
      idHi: 0xb7ad6b71,
      idLo: 0x69203331,
      traceState: 'k=v',
      sampled: true,
    });
    expect(parseTraceparent(`00-${id}-b7ad6b7169203331-00`)?.sampled).toBe(false);
    // a later version may carry more fields
    expect(parseTraceparent(`01-${id}-b7ad6b7169203331-01-more`)?.traceId).toBe(id);
  });

  it('refuses malformed ones: version ff, zero ids, extra fields in version 00, upper case, wrong lengths', () => {
    for (const bad of [
      `ff-${id}-b7ad6b7169203331-01`,
      `00-${'0'.repeat(32)}-b7ad6b7169203331-01`,
      `00-${id}-${'0'.repeat(16)}-01`,
      `00-${id}-b7ad6b7169203331-01-more`,
      `00-${id.toUpperCase()}-b7ad6b7169203331-01`,
      `00-${id}-b7ad6b716920333-01`,
      '',
      undefined,
    ]) {
      expect(parseTraceparent(bad)).toBeUndefined();
    }
  });
});
