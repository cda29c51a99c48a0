import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import type { RunEvent } from '@sluice/engine';
import { emptyRunCounts, type NodeCounts } from '@sluice/shared';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../logger.js';
import type { SpanExporter } from './exporter.js';
import { encodeRequest } from './otlp.mjs';
import { STATUS_ERROR, spanIdOf } from './spans.js';
import { startTracing, tracesEndpoint } from './start.js';
import { decodeExportRequest, MemoryExporter, type ReceivedSpan } from './test-support.js';
import { createTracing, type Tracing } from './tracing.js';

function tracer(): { tracing: Tracing; spans: () => Promise<ReceivedSpan[]> } {
  const exporter = new MemoryExporter();
  const tracing = createTracing({ OTEL_SERVICE_NAME: 'sluice-test' }, undefined, { exporter });
  return {
    tracing,
    spans: async () => {
      await tracing.flush();
      return exporter.spans;
    },
  };
}

const counts = (c: Partial<NodeCounts>): NodeCounts => ({ in: 0, out: 0, error: 0, filtered: 0, ...c });
const info = { flowId: 'f1', flowName: 'Orders', nodeTypes: new Map([['write', 'http-write']]), resumed: false };

function batchEvents(batchNo: number, at: number, nodeCounts: Record<string, NodeCounts>): RunEvent[] {
  return [
    { type: 'batch-started', runId: 'r1', batchNo, size: 2, at },
    {
      type: 'batch',
      runId: 'r1',
      batch: { batchNo, size: 2, startedAt: at, finishedAt: at + 10, succeeded: 2, filtered: 0, failed: 0 },
      counts: emptyRunCounts(),
      nodeCounts,
    },
  ];
}

const parentOf = (span: ReceivedSpan | undefined) => span?.parentSpanId;
const idOf = (span: ReceivedSpan | undefined) => span?.spanId;

describe('run spans', () => {
  it('builds run → batch spans, node spans under the run, and under a batch the spans of the nodes that sent its requests', async () => {
    const { tracing, spans } = tracer();
    tracing.runStarted('r1', info);
    const [started, finished] = batchEvents(1, 1000, { write: counts({ in: 2, out: 2 }) });
    tracing.event(started as RunEvent);
    const requestParent = tracing.parentOf({ runId: 'r1', nodeId: 'write', batchNo: 1 });
    // a second request of the same node and batch shares its span
    expect(tracing.parentOf({ runId: 'r1', nodeId: 'write', batchNo: 1 })).toBeDefined();
    tracing.event(finished as RunEvent);
    for (const e of batchEvents(2, 2000, { write: counts({ in: 3, out: 3 }), other: counts({ in: 1, out: 1 }) }))
      tracing.event(e);
    const sourceParent = tracing.parentOf({ runId: 'r1', nodeId: 'src' });
    // a request from no run (a connection checked from the API): a trace of its own
    const elsewhere = tracing.parentOf(undefined);
    tracing.runEnded('r1', { status: 'succeeded', counts: { ...emptyRunCounts(), read: 3, succeeded: 3 } });

    const all = await spans();
    const byName = (name: string) => all.filter((s) => s.name === name);
    const [run] = byName('run Orders');
    expect(byName('run Orders')).toHaveLength(1);
    expect(run?.parentSpanId).toBeUndefined();
    expect(run?.attributes).toMatchObject({
      'sluice.run.id': 'r1',
      'sluice.flow.id': 'f1',
      'sluice.run.status': 'succeeded',
      'sluice.run.read': 3,
    });

    const batches = byName('batch');
    expect(batches.map((b) => b.attributes['sluice.batch.no'])).toEqual([1, 2]);
    expect(batches.every((b) => parentOf(b) === idOf(run))).toBe(true);
    expect(batches[0]?.start).toBe(1000);
    expect(batches[0]?.end).toBe(1010);

    // batch 1: the write node's span, opened by its request, with what it settled in the batch;
    // batch 2 (no request): no node span of its own. A span per node under the run, with its counts
    // at the end, from the first batch it settled records in to the last.
    const writes = byName('node write');
    expect(writes).toHaveLength(2);
    const [inBatch, inRun] = writes;
    expect(parentOf(inBatch)).toBe(idOf(batches[0]));
    expect(inBatch?.attributes).toMatchObject({
      'sluice.node.type': 'http-write',
      'sluice.node.in': 2,
      'sluice.node.out': 2,
    });
    expect(parentOf(inRun)).toBe(idOf(run));
    expect(inRun?.attributes).toMatchObject({ 'sluice.node.in': 3, 'sluice.node.out': 3 });
    expect([inRun?.start, inRun?.end]).toEqual([1000, 2010]);
    expect(all.filter((s) => parentOf(s) === idOf(batches[1]))).toEqual([]);
    const [other] = byName('node other');
    expect(byName('node other')).toHaveLength(1);
    expect(parentOf(other)).toBe(idOf(run));
    expect(other?.attributes).toMatchObject({ 'sluice.node.id': 'other', 'sluice.node.in': 1, 'sluice.node.out': 1 });
    expect([other?.start, other?.end]).toEqual([2000, 2010]);

    // the contexts requests were given: their node's span in their batch, or in the run
    expect(requestParent && spanIdOf(requestParent)).toBe(idOf(inBatch));
    const [source] = byName('node src');
    expect(byName('node src')).toHaveLength(1);
    expect(sourceParent && spanIdOf(sourceParent)).toBe(idOf(source));
    expect(parentOf(source)).toBe(idOf(run));
    expect(elsewhere).toBeUndefined();
  });

  it('makes the run span a child of the trace a webhook call carried; ignores a malformed one', async () => {
    const { tracing, spans } = tracer();
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    tracing.adopt('r1', { traceparent: `00-${traceId}-b7ad6b7169203331-01` });
    tracing.adopt('r2', { traceparent: 'not-a-traceparent' });
    tracing.runStarted('r1', info);
    tracing.runStarted('r2', { ...info, flowName: 'Other' });
    tracing.runEnded('r1', { status: 'failed', error: 'the source could not be read' });
    tracing.runEnded('r2', { status: 'cancelled' });
    const [one, two] = await spans();
    expect(one?.traceId).toBe(traceId);
    expect(parentOf(one)).toBe('b7ad6b7169203331');
    expect(one?.status).toEqual({ code: STATUS_ERROR, message: 'the source could not be read' });
    expect(two?.traceId).not.toBe(traceId);
    expect(two?.parentSpanId).toBeUndefined();
  });

  it('ends the spans still open when it shuts down, and ignores runs it never saw', async () => {
    // spans the exporter was given, and whether it was shut down after them
    const seen: string[] = [];
    let shut = false;
    const exporter: SpanExporter = {
      export: async (chunk, origin) => {
        if (shut) throw new Error('exported after shutdown');
        seen.push(...decodeExportRequest(encodeRequest(origin, chunk)).spans.map((s) => s.name));
      },
      shutdown: async () => {
        shut = true;
      },
    };
    const tracing = createTracing({}, undefined, { exporter });
    tracing.event({ type: 'batch-started', runId: 'unknown', batchNo: 1, size: 1, at: 0 });
    tracing.runEnded('unknown', { status: 'succeeded' });
    tracing.runStarted('r1', info);
    tracing.event({ type: 'batch-started', runId: 'r1', batchNo: 1, size: 1, at: Date.now() });
    tracing.parentOf({ runId: 'r1', nodeId: 'write', batchNo: 1 });
    await tracing.shutdown();
    expect(shut).toBe(true);
    expect(seen.sort()).toEqual(['batch', 'node write', 'run Orders']);
  });
});

describe('tracesEndpoint', () => {
  it('is off without an endpoint, and appends /v1/traces to the base endpoint', () => {
    expect(tracesEndpoint({})).toBeUndefined();
    expect(tracesEndpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318/' })).toBe(
      'http://127.0.0.1:4318/v1/traces',
    );
    expect(
      tracesEndpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:1', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://b:2/t' }),
    ).toBe('http://b:2/t');
  });

  it('refuses an endpoint that is not an http(s) URL, naming the variable, and starts no tracer', async () => {
    expect(() => tracesEndpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: 'localhost:4318' })).toThrow(
      /^OTEL_EXPORTER_OTLP_ENDPOINT: "localhost:4318" is not an http:\/\/ or https:\/\/ URL/,
    );
    expect(() => tracesEndpoint({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'grpc://collector:4317' })).toThrow(
      /^OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "grpc:\/\/collector:4317"/,
    );
    await expect(startTracing({ OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' })).rejects.toThrow(
      /OTEL_EXPORTER_OTLP_ENDPOINT/,
    );
  });
});

describe('the OTLP/HTTP export', () => {
  it('posts spans as JSON to <endpoint>/v1/traces, and says once when the collector refuses them and when it takes them again', async () => {
    const bodies: { path: string; type: string; body: Buffer }[] = [];
    let refuse = true;
    const collector = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => {
        chunks.push(c);
      });
      req.on('end', () => {
        bodies.push({ path: req.url ?? '', type: String(req.headers['content-type']), body: Buffer.concat(chunks) });
        res.writeHead(refuse ? 400 : 200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    let log = '';
    const logger = createLogger({
      level: 'info',
      destination: new Writable({
        write(chunk, _encoding, done) {
          log += String(chunk);
          done();
        },
      }),
    });
    const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
    const tracing = await startTracing(
      { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' },
      { logger },
    );
    try {
      const lines = () =>
        log
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as { level: number; msg: string });
      for (const round of [1, 2, 3]) {
        if (round === 3) refuse = false;
        tracing?.runStarted(`r${round}`, info);
        tracing?.runEnded(`r${round}`, { status: 'succeeded' });
        await tracing?.flush();
      }
      expect(bodies.map((b) => b.path)).toEqual(['/v1/traces', '/v1/traces', '/v1/traces']);
      expect(bodies[0]?.type).toBe('application/x-protobuf');
      const sent = decodeExportRequest(bodies[2]?.body ?? Buffer.alloc(0));
      expect(sent.spans.map((s) => s.name)).toEqual(['run Orders']);
      expect(sent.resource).toEqual({ 'service.name': 'sluice', 'service.version': '0.1.0' });
      expect(sent.scope).toEqual({ name: 'sluice', version: '0.1.0' });
      expect(lines().map((l) => l.msg)).toEqual([
        'OpenTelemetry traces are on',
        'OTEL_EXPORTER_OTLP_PROTOCOL: Sluice sends traces as http/protobuf, not grpc',
        // two refused exports, one warning
        'traces could not be sent; they are dropped until the collector answers',
        'traces are sent again',
      ]);
    } finally {
      await tracing?.shutdown();
      await new Promise<void>((resolve) => collector.close(() => resolve()));
    }
  });
});
