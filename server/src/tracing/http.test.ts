import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpFailure } from '@sluice/engine';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPooledHttpClient } from '../http-client.js';
import { OutboundGuard } from '../outbound-guard.js';
import { tracedHttpClient } from './http.js';
import { SpanKind, STATUS_ERROR } from './spans.js';
import { startTracing } from './start.js';
import { MemoryExporter } from './test-support.js';
import { createTracing } from './tracing.js';

let server: Server;
let base: string;
let port: number;
/** The headers of each request the server received, by path. */
const received = new Map<string, IncomingHttpHeaders>();

beforeAll(async () => {
  server = createServer((req, res) => {
    received.set(req.url ?? '', req.headers);
    req.resume();
    req.on('end', () => {
      const status = req.url?.startsWith('/fail') ? 503 : 200;
      res.writeHead(status, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function traced() {
  const exporter = new MemoryExporter();
  const tracing = createTracing({}, undefined, { exporter });
  const pooled = createPooledHttpClient({ guard: new OutboundGuard(['127.0.0.1']) });
  const http = tracedHttpClient(pooled.http, tracing);
  const spans = async () => {
    await tracing.flush();
    return exporter.spans;
  };
  return { tracing, http, spans, close: () => pooled.close() };
}

describe('traced HTTP client', () => {
  it('makes a CLIENT span per request with the HTTP client conventions and sends its traceparent', async () => {
    const { http, spans, close } = traced();
    try {
      const res = await http({
        method: 'post',
        url: `${base}/ok?q=1`,
        headers: { a: 'b' },
        body: '{}',
        timeoutMs: 5000,
      });
      expect(res.status).toBe(200);
      const [span, ...more] = await spans();
      expect(more).toHaveLength(0);
      expect(span?.name).toBe('POST');
      expect(span?.kind).toBe(SpanKind.CLIENT);
      expect(span?.attributes).toEqual({
        'http.request.method': 'POST',
        'url.full': `${base}/ok?q=1`,
        'server.address': '127.0.0.1',
        'server.port': port,
        'http.response.status_code': 200,
      });
      expect(span?.status).toBeUndefined();
      const { traceId, spanId } = span ?? {};
      expect(received.get('/ok?q=1')?.traceparent).toBe(`00-${traceId}-${spanId}-01`);
      // the request's own headers are kept, and the caller's object is not changed
      expect(received.get('/ok?q=1')?.a).toBe('b');
    } finally {
      close();
    }
  });

  it('marks an error answer and a failure with error.type', async () => {
    const { http, spans, close } = traced();
    try {
      expect((await http({ method: 'GET', url: `${base}/fail`, headers: {}, timeoutMs: 5000 })).status).toBe(503);
      // a port nobody listens on (one just freed)
      const idle = createServer();
      await new Promise<void>((resolve) => idle.listen(0, '127.0.0.1', resolve));
      const closedPort = (idle.address() as AddressInfo).port;
      await new Promise<void>((resolve) => idle.close(() => resolve()));
      await expect(
        http({ method: 'GET', url: `http://127.0.0.1:${closedPort}/x`, headers: {}, timeoutMs: 5000 }),
      ).rejects.toBeInstanceOf(HttpFailure);
      const [answered, failed] = await spans();
      expect(answered?.attributes['http.response.status_code']).toBe(503);
      expect(answered?.attributes['error.type']).toBe('503');
      expect(answered?.status?.code).toBe(STATUS_ERROR);
      expect(failed?.attributes['error.type']).toBe('network');
      expect(failed?.attributes['http.response.status_code']).toBeUndefined();
      expect(failed?.status?.code).toBe(STATUS_ERROR);
    } finally {
      close();
    }
  });

  it('counts the times a request went out before (http.request.resend_count)', async () => {
    const { http, spans, close } = traced();
    try {
      const origin = { runId: 'r', nodeId: 'n' };
      await http({ method: 'GET', url: `${base}/again`, headers: {}, timeoutMs: 5000, origin });
      await http({
        method: 'GET',
        url: `${base}/again`,
        headers: {},
        timeoutMs: 5000,
        origin: { ...origin, resends: 2 },
      });
      const [first, third] = await spans();
      expect(first?.attributes['http.request.resend_count']).toBeUndefined();
      expect(third?.attributes['http.request.resend_count']).toBe(2);
    } finally {
      close();
    }
  });

  it('reports a method the conventions do not know as _OTHER, with the method as sent', async () => {
    const { http, spans, close } = traced();
    try {
      await http({ method: 'PROPFIND', url: `${base}/dav`, headers: {}, timeoutMs: 5000 });
      const [span] = await spans();
      expect(span?.name).toBe('HTTP');
      expect(span?.attributes['http.request.method']).toBe('_OTHER');
      expect(span?.attributes['http.request.method_original']).toBe('PROPFIND');
    } finally {
      close();
    }
  });

  it('keeps no credentials of the URL in the span', async () => {
    const { http, spans, close } = traced();
    try {
      await http({
        method: 'GET',
        url: `http://user:pw@127.0.0.1:${port}/ok2?api_key=s3cret&page=2`,
        headers: {},
        timeoutMs: 5000,
      });
      const [span] = await spans();
      const shown = String(span?.attributes['url.full']);
      expect(shown).not.toContain('s3cret');
      expect(shown).not.toContain('pw');
      expect(shown).toContain('page=2');
    } finally {
      close();
    }
  });

  it('is off without an endpoint', async () => {
    expect(await startTracing({})).toBeUndefined();
    expect(await startTracing({ OTEL_SERVICE_NAME: 'x', OTEL_EXPORTER_OTLP_ENDPOINT: ' ' })).toBeUndefined();
  });
});
