import protobuf from 'protobufjs';
import type { SpanExporter } from './exporter.js';
import { encodeRequest, type Origin } from './otlp.mjs';
import type { SpanChunk } from './span-log.js';

/**
 * What the tests read Sluice's OTLP export requests with: protobufjs, given the messages of
 * opentelemetry-proto that Sluice writes (the collector's `ExportTraceServiceRequest` and what it
 * holds), field numbers as the project publishes them. Written apart from the encoder (`otlp.ts`), so
 * a wrong field number or wire type there fails the tests.
 */
const PROTO = `
syntax = "proto3";
package otlp;
message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
message ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; string schema_url = 3; }
message Resource { repeated KeyValue attributes = 1; uint32 dropped_attributes_count = 2; }
message ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; string schema_url = 3; }
message InstrumentationScope { string name = 1; string version = 2; repeated KeyValue attributes = 3; }
message KeyValue { string key = 1; AnyValue value = 2; }
message AnyValue {
  oneof value {
    string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4;
    bytes bytes_value = 7;
  }
}
message Status { reserved 1; string message = 2; int32 code = 3; }
message Span {
  bytes trace_id = 1; bytes span_id = 2; string trace_state = 3; bytes parent_span_id = 4;
  fixed32 flags = 16; string name = 5; int32 kind = 6;
  fixed64 start_time_unix_nano = 7; fixed64 end_time_unix_nano = 8;
  repeated KeyValue attributes = 9; uint32 dropped_attributes_count = 10;
  Status status = 15;
}
`;

const Request = protobuf.parse(PROTO, { keepCase: true }).root.lookupType('otlp.ExportTraceServiceRequest');

type Value = string | number | boolean;

/** A span as a collector reads it, ids in hex and times in milliseconds. */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  traceState: string | undefined;
  name: string;
  kind: number;
  /** Nanoseconds since the epoch, exactly as sent. */
  startNanos: bigint;
  endNanos: bigint;
  /** Milliseconds since the epoch. */
  start: number;
  end: number;
  attributes: Record<string, Value>;
  status: { code: number; message?: string } | undefined;
}

/** An export request as a collector reads it. */
export interface ReceivedRequest {
  resource: Record<string, Value>;
  scope: { name: string; version: string };
  spans: ReceivedSpan[];
}

interface RawKeyValue {
  key: string;
  value?: { string_value?: string; bool_value?: boolean; int_value?: string; double_value?: number };
}

function attributes(list: RawKeyValue[] | undefined): Record<string, Value> {
  const out: Record<string, Value> = {};
  for (const { key, value } of list ?? []) {
    if (!value) continue;
    if (value.string_value !== undefined) out[key] = value.string_value;
    else if (value.bool_value !== undefined) out[key] = value.bool_value;
    else if (value.int_value !== undefined) out[key] = Number(value.int_value);
    else if (value.double_value !== undefined) out[key] = value.double_value;
  }
  return out;
}

const hex = (b: Buffer | Uint8Array | undefined) => (b && b.length > 0 ? Buffer.from(b).toString('hex') : undefined);

/** Decodes one OTLP/HTTP protobuf request body (the resource and scope of its first group). */
export function decodeExportRequest(body: Uint8Array): ReceivedRequest {
  // biome-ignore lint/suspicious/noExplicitAny: protobufjs's decoded messages are untyped
  const raw = Request.toObject(Request.decode(body), { longs: String, defaults: false }) as any;
  const groups = raw.resource_spans ?? [];
  const spans: ReceivedSpan[] = [];
  for (const group of groups) {
    for (const scoped of group.scope_spans ?? []) {
      for (const s of scoped.spans ?? []) {
        const startNanos = BigInt(s.start_time_unix_nano ?? 0);
        const endNanos = BigInt(s.end_time_unix_nano ?? 0);
        spans.push({
          traceId: hex(s.trace_id) ?? '',
          spanId: hex(s.span_id) ?? '',
          parentSpanId: hex(s.parent_span_id),
          traceState: s.trace_state || undefined,
          name: s.name,
          kind: s.kind ?? 0,
          startNanos,
          endNanos,
          start: Number(startNanos) / 1e6,
          end: Number(endNanos) / 1e6,
          attributes: attributes(s.attributes),
          status: s.status
            ? { code: s.status.code ?? 0, ...(s.status.message ? { message: s.status.message } : {}) }
            : undefined,
        });
      }
    }
  }
  return {
    resource: attributes(groups[0]?.resource?.attributes),
    scope: groups[0]?.scope_spans?.[0]?.scope ?? { name: '', version: '' },
    spans,
  };
}

/** Keeps what it is given as the collector would read it: encoded as the export thread does, then decoded (tests). */
export class MemoryExporter implements SpanExporter {
  readonly requests: ReceivedRequest[] = [];

  get spans(): ReceivedSpan[] {
    return this.requests.flatMap((r) => r.spans);
  }

  async export(chunk: SpanChunk, origin: Origin): Promise<void> {
    const decoded = decodeExportRequest(encodeRequest(origin, chunk));
    if (decoded.spans.length !== chunk.count)
      throw new Error(`said ${chunk.count} spans, held ${decoded.spans.length}`);
    this.requests.push(decoded);
  }
}
