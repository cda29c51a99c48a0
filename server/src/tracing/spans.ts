import { randomFillSync } from 'node:crypto';

/** OTLP's span kinds (the numbers of its protobuf enum, which its JSON encoding uses too). */
export const SpanKind = { INTERNAL: 1, CLIENT: 3 } as const;
export type SpanKind = (typeof SpanKind)[keyof typeof SpanKind];

/** OTLP's status codes: unset (0), ok (1), error (2). */
export const STATUS_ERROR = 2;

export type AttributeValue = string | number | boolean;
export type Attributes = Record<string, AttributeValue>;

/**
 * One span as Sluice records it while it is open: plain data, made for a few hundred nanoseconds.
 * When it ends its fields are copied into the span log (`span-log.ts`: numbers in typed arrays), which
 * the export thread turns into OTLP protobuf, so the run's thread neither keeps spans nor encodes them.
 * (OpenTelemetry's SDK spent microseconds per span on what Sluice does not use, such as samplers, a
 * processor per span and attribute limits, and encoded its batches on the run's thread; in a
 * million-record run that was a quarter of the run's time: docs/benchmarks.md.)
 *
 * A span id is kept as its two 32-bit halves (`idHi`, `idLo`), written as hex only for a header.
 */
export interface SpanRecord {
  traceId: string;
  idHi: number;
  idLo: number;
  /** The parent span's id halves; `parentHi` -1: a root span. */
  parentHi: number;
  parentLo: number;
  /** The `tracestate` of the trace a caller sent, passed on unchanged. */
  traceState: string | undefined;
  /** Whether the span is exported: false under a caller's trace that was not sampled (flags 00). */
  sampled: boolean;
  name: string;
  kind: SpanKind;
  /** Milliseconds since the epoch, with the fraction the clock gives. */
  start: number;
  end: number;
  attributes: Attributes;
  status: { code: typeof STATUS_ERROR; message?: string } | undefined;
}

/** The trace a span belongs to and its place in it: what a child or a `traceparent` needs. */
export interface SpanContext {
  traceId: string;
  idHi: number;
  idLo: number;
  traceState: string | undefined;
  sampled: boolean;
}

/** Random bytes drawn in blocks: one system call per few hundred ids, not one per id. */
const pool = Buffer.alloc(4096);
let used = pool.length;

function draw(bytes: number): number {
  if (used + bytes > pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  const at = used;
  used += bytes;
  return at;
}

/** A random trace id (32 hex digits, never all zero, as W3C Trace Context asks). */
export function newTraceId(): string {
  for (;;) {
    const at = draw(16);
    for (let i = at; i < at + 16; i++) if (pool[i] !== 0) return pool.toString('hex', at, at + 16);
  }
}

/** A span id's halves written as the 16 hex digits of a header. */
export function spanIdHex(hi: number, lo: number): string {
  return hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0');
}

/** The span id of a context, as hex. */
export const spanIdOf = (ctx: SpanContext) => spanIdHex(ctx.idHi, ctx.idLo);

/** The current time in milliseconds since the epoch, to the microsecond. */
export const nowMs = () => performance.timeOrigin + performance.now();

/** Starts a span under `parent` (a new trace without one); it is recorded when it is ended. */
export function startSpan(
  name: string,
  kind: SpanKind,
  parent: SpanContext | undefined,
  attributes: Attributes,
  start: number = nowMs(),
): SpanRecord {
  let idHi = 0;
  let idLo = 0;
  // an all-zero id is invalid: draw again (one chance in 2^64)
  while (idHi === 0 && idLo === 0) {
    const at = draw(8);
    idHi = pool.readUInt32BE(at);
    idLo = pool.readUInt32BE(at + 4);
  }
  return {
    traceId: parent?.traceId ?? newTraceId(),
    idHi,
    idLo,
    parentHi: parent ? parent.idHi : -1,
    parentLo: parent ? parent.idLo : 0,
    traceState: parent?.traceState,
    sampled: parent?.sampled ?? true,
    name,
    kind,
    start,
    end: start,
    attributes,
    status: undefined,
  };
}

export function contextOf(span: SpanRecord): SpanContext {
  return {
    traceId: span.traceId,
    idHi: span.idHi,
    idLo: span.idLo,
    traceState: span.traceState,
    sampled: span.sampled,
  };
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZEROS = /^0+$/;

/**
 * The context a W3C `traceparent` header carries, or undefined when it is malformed (the spec says
 * to start a new trace then): version `ff` and all-zero ids are invalid; a version 00 header has
 * nothing after its flags; a later version may add fields, which are ignored.
 */
export function parseTraceparent(traceparent: string | undefined, tracestate?: string): SpanContext | undefined {
  const match = TRACEPARENT.exec((traceparent ?? '').trim());
  if (!match) return undefined;
  const [, version, traceId, spanId, flags, rest] = match as unknown as [
    string,
    string,
    string,
    string,
    string,
    string?,
  ];
  if (version === 'ff' || (version === '00' && rest) || ZEROS.test(traceId) || ZEROS.test(spanId)) return undefined;
  const state = tracestate?.trim();
  return {
    traceId,
    idHi: Number.parseInt(spanId.slice(0, 8), 16),
    idLo: Number.parseInt(spanId.slice(8), 16),
    traceState: state || undefined,
    sampled: (Number.parseInt(flags, 16) & 1) === 1,
  };
}

/** Writes the W3C `traceparent` (and `tracestate`) of a span into request headers. */
export function injectContext(ctx: SpanContext, headers: Record<string, string>): void {
  headers.traceparent = `00-${ctx.traceId}-${spanIdOf(ctx)}-${ctx.sampled ? '01' : '00'}`;
  if (ctx.traceState) headers.tracestate = ctx.traceState;
}
