import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HookView, RunDetail } from '@sluice/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../server/src/sandbox/index.js';
import { decodeExportRequest } from '../../server/src/tracing/test-support.js';
import { api, eventually, type RunningServer, startServer } from '../support/server.js';

/**
 * Traces, end to end: the server in its own process with OTEL_EXPORTER_OTLP_ENDPOINT pointing at an
 * OTLP/HTTP receiver in this test (protobuf, read with protobufjs), the sandbox systems in this process. A run started by a
 * webhook call carrying a traceparent, and one started through the API, each give a run span with
 * its node and batch spans, and under a batch the span of the node that sent its requests; the ERP receives each write with a traceparent of the run's
 * trace. The spans are sent when the server stops (the export delay is longer than the test), so
 * what arrives also proves the provider is flushed on stop.
 */

/** One span as the receiver read it, with its service. */
interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  attributes: Record<string, string | number | boolean>;
  status: { code?: number } | undefined;
  service: string;
}

const SPAN_KIND_CLIENT = 3;

let receiver: Server;
let receiverUrl: string;
const received: ReceivedSpan[] = [];
let sandbox: Sandbox;
let server: RunningServer;

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces') {
        res.writeHead(404).end();
        return;
      }
      if (req.headers['content-type'] !== 'application/x-protobuf') {
        res.writeHead(415).end();
        return;
      }
      const request = decodeExportRequest(Buffer.concat(chunks));
      const service = String(request.resource['service.name'] ?? '');
      for (const span of request.spans) received.push({ ...span, parentSpanId: span.parentSpanId ?? '', service });
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  sandbox = await startSandbox({ workOrders: 25 });
  server = await startServer({
    SLUICE_SANDBOX_URL: sandbox.url,
    OTEL_EXPORTER_OTLP_ENDPOINT: receiverUrl,
    // nothing is sent before the server stops: its stop must flush every span
    OTEL_BSP_SCHEDULE_DELAY: '600000',
  });
});

afterAll(async () => {
  await server?.stop();
  await sandbox?.close();
  await new Promise<void>((resolve) => receiver?.close(() => resolve()));
});

const post = <T>(p: string, body: unknown) =>
  api<T>(`${server.url}${p}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

async function finished(runId: string): Promise<RunDetail> {
  return eventually(async () => {
    const detail = await api<RunDetail>(`${server.url}/api/runs/${runId}`);
    return ['succeeded', 'failed', 'cancelled'].includes(detail.status) ? detail : undefined;
  }, 60_000);
}

const writeToErp = {
  id: 'erp-write',
  type: 'http-write',
  params: { connection: 'erp-sandbox', url: '/api/erp/work-orders', method: 'POST' },
};

/** webhook → batch of 2 → write each work order to the ERP. */
const hookFlow = {
  format: 2,
  name: 'Traced webhook',
  nodes: [
    { id: 'incoming', type: 'webhook', params: { keyField: 'externalKey' } },
    { id: 'batch', type: 'batch', params: { size: 2 } },
    writeToErp,
  ],
  edges: [
    { source: 'incoming', target: 'batch' },
    { source: 'batch', target: 'erp-write' },
  ],
};

/** manual → maintenance work orders (pages of 10) → batch of 10 → map → write to the ERP. */
const pagedFlow = {
  format: 2,
  name: 'Traced API run',
  nodes: [
    { id: 'start', type: 'manual' },
    {
      id: 'work-orders',
      type: 'http-source',
      params: {
        connection: 'maintenance-sandbox',
        url: '/api/eam/work-orders',
        recordsPath: 'data',
        keyField: 'key',
        pageSize: 10,
        pageSizeParam: 'limit',
        pagination: { type: 'token', tokenPath: 'meta.continuation_token', tokenParam: 'continuation_token' },
      },
    },
    { id: 'batch', type: 'batch', params: { size: 10 } },
    {
      id: 'shape',
      type: 'map',
      params: {
        keep: 'none',
        fields: [
          { name: 'externalKey', expression: 'key' },
          { name: 'title', expression: '"WO " & key' },
          { name: 'assetKey', expression: '"AS-1"' },
        ],
      },
    },
    writeToErp,
  ],
  edges: [
    { source: 'start', target: 'work-orders' },
    { source: 'work-orders', target: 'batch' },
    { source: 'batch', target: 'shape' },
    { source: 'shape', target: 'erp-write' },
  ],
};

const callerTraceId = '4bf92f3577b34da6a3ce929d0e0e4736';
const callerSpanId = '00f067aa0ba902b7';
let hookRun: RunDetail;
let apiRun: RunDetail;

describe('traces of runs', () => {
  it('runs a flow from a webhook call that carries a traceparent, and one from the API', async () => {
    const hooked = await post<{ id: string }>('/api/flows', hookFlow);
    await post(`/api/flows/${hooked.id}/publish`, {});
    const hooks = await api<{ items: HookView[] }>(`${server.url}/api/flows/${hooked.id}/hooks`);
    const hook = hooks.items[0] as HookView;
    const records = Array.from({ length: 5 }, (_, i) => ({ externalKey: `T-${i}`, title: `t${i}`, assetKey: 'AS-1' }));
    const res = await fetch(`${server.url}${hook.path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-sluice-secret': hook.secret,
        traceparent: `00-${callerTraceId}-${callerSpanId}-01`,
      },
      body: JSON.stringify(records),
    });
    expect(res.status).toBe(202);
    hookRun = await finished(((await res.json()) as { runId: string }).runId);
    expect(hookRun.counts).toMatchObject({ read: 5, succeeded: 5 });

    const paged = await post<{ id: string }>('/api/flows', pagedFlow);
    const { runId } = await post<{ runId: string }>(`/api/flows/${paged.id}/runs`, {});
    apiRun = await finished(runId);
    expect(apiRun.counts).toMatchObject({ read: 25, succeeded: 25 });

    // the spans go out when the server stops
    await server.stop();
    expect(received.filter((s) => s.attributes['sluice.run.id'] === hookRun.id)).toHaveLength(1);
  });

  it('gives the webhook run a span in the caller’s trace, with batch, node and request children', () => {
    const run = runSpan(hookRun.id);
    expect(run).toMatchObject({ traceId: callerTraceId, parentSpanId: callerSpanId, name: 'run Traced webhook' });
    expect(run.service).toBe('sluice');
    expect(run.attributes).toMatchObject({ 'sluice.run.status': 'succeeded', 'sluice.run.read': 5 });

    // a span per node under the run, with its counts at the end; the ERP connection's check before the
    // run is under the span of the node that names it
    expect(
      childrenOf(run)
        .filter((s) => s.name.startsWith('node '))
        .map((s) => s.name)
        .sort(),
    ).toEqual(['node batch', 'node erp-write', 'node incoming']);
    const [writeInRun, ...moreWrites] = childrenOf(run, 'node erp-write');
    expect(moreWrites).toHaveLength(0);
    expect(writeInRun?.attributes).toMatchObject({ 'sluice.node.in': 5, 'sluice.node.out': 5, 'sluice.node.error': 0 });
    const [check, ...moreChecks] = childrenOf(writeInRun as ReceivedSpan);
    expect(moreChecks).toHaveLength(0);
    expect(check).toMatchObject({ kind: SPAN_KIND_CLIENT });
    expect(check?.attributes).toMatchObject({
      'url.full': `${sandbox.url}/erp/api/erp/status`,
      'http.response.status_code': 200,
    });

    const batches = childrenOf(run, 'batch');
    expect(batches.map((b) => b.attributes['sluice.batch.no']).sort()).toEqual([1, 2, 3]);
    const requests: ReceivedSpan[] = [];
    for (const batch of batches) {
      // a span for the node that sent the batch's requests (the others' time is the batch's own)
      expect(childrenOf(batch).map((n) => n.name)).toEqual(['node erp-write']);
      const [write] = childrenOf(batch, 'node erp-write');
      expect(write?.attributes).toMatchObject({
        'sluice.node.type': 'http-write',
        'sluice.node.in': batch.attributes['sluice.batch.size'],
      });
      const sent = childrenOf(write as ReceivedSpan);
      expect(sent).toHaveLength(batch.attributes['sluice.batch.no'] === 3 ? 1 : 2);
      requests.push(...sent);
    }
    const erp = new URL(sandbox.url);
    for (const request of requests) {
      expect(request.kind).toBe(SPAN_KIND_CLIENT);
      expect(request.name).toBe('POST');
      expect(request.attributes).toEqual({
        'http.request.method': 'POST',
        'url.full': `${sandbox.url}/erp/api/erp/work-orders`,
        'server.address': erp.hostname,
        'server.port': Number(erp.port),
        'http.response.status_code': 201,
      });
    }

    // the ERP received each write with a traceparent naming the run's trace and the request's span
    const sentWith = sandbox
      .erpStats()
      .log.filter((e) => e.idempotencyKey?.startsWith(`${hookRun.id}:`))
      .map((e) => e.traceparent);
    expect(sentWith).toHaveLength(5);
    expect(new Set(sentWith)).toEqual(new Set(requests.map((r) => `00-${callerTraceId}-${r.spanId}-01`)));
  });

  it('gives the API run a trace of its own, with the source’s page requests under its node', () => {
    const run = runSpan(apiRun.id);
    expect(run.parentSpanId).toBe('');
    expect(run.traceId).not.toBe(callerTraceId);
    const [source] = childrenOf(run, 'node work-orders');
    const requests = childrenOf(source as ReceivedSpan);
    // the connection's check before the run, then 25 work orders in pages of 10: three pages
    const isCheck = (s: ReceivedSpan) => String(s.attributes['url.full']).endsWith('?limit=1');
    expect(requests.filter(isCheck)).toHaveLength(1);
    const pages = requests.filter((s) => !isCheck(s));
    expect(pages).toHaveLength(3);
    for (const page of pages) {
      expect(page).toMatchObject({ kind: SPAN_KIND_CLIENT, name: 'GET', traceId: run.traceId });
      expect(page.attributes['http.response.status_code']).toBe(200);
      expect(String(page.attributes['url.full'])).toContain('/maintenance/api/eam/work-orders?');
    }
    const batches = childrenOf(run, 'batch');
    expect(batches).toHaveLength(3);
    // the map's span under the run: what it settled over the run
    const [shape, ...moreShapes] = childrenOf(run, 'node shape');
    expect(moreShapes).toHaveLength(0);
    expect(shape?.attributes).toMatchObject({
      'sluice.node.type': 'map',
      'sluice.node.in': 25,
      'sluice.node.out': 25,
    });
    // each batch: the span of the node that sent its requests, the requests under it
    for (const batch of batches) {
      expect(childrenOf(batch).map((n) => n.name)).toEqual(['node erp-write']);
      const size = batch.attributes['sluice.batch.size'];
      expect(childrenOf(childrenOf(batch, 'node erp-write')[0] as ReceivedSpan)).toHaveLength(Number(size));
    }
    const traceparents = sandbox
      .erpStats()
      .log.filter((e) => e.idempotencyKey?.startsWith(`${apiRun.id}:`))
      .map((e) => e.traceparent?.split('-')[1]);
    expect(traceparents).toEqual(Array(25).fill(run.traceId));
  });
});

function runSpan(runId: string): ReceivedSpan {
  const found = received.filter((s) => s.attributes['sluice.run.id'] === runId);
  expect(found).toHaveLength(1);
  return found[0] as ReceivedSpan;
}

function childrenOf(parent: ReceivedSpan, name?: string): ReceivedSpan[] {
  return received.filter(
    (s) => s.traceId === parent.traceId && s.parentSpanId === parent.spanId && (name === undefined || s.name === name),
  );
}
