import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { RunEvent } from '@sluice/engine';
import { emptyRunCounts } from '@sluice/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coalesce } from './event-routes.js';
import { openTestSluice, TEST_TOKEN, type TestSluice } from './test-support.js';

let t: TestSluice;
let base: string;
let server: ReturnType<typeof serve>;

beforeAll(async () => {
  t = await openTestSluice();
  const app = t.raw;
  server = await new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  (server as unknown as { closeAllConnections(): void }).closeAllConnections();
  await new Promise((r) => server.close(r));
  await t.close();
});

interface Message {
  event: string;
  data: unknown;
  at: number;
}

/** Reads server-sent events until `stop` says so or the stream ends. */
async function readEvents(url: string, stop: (m: Message[]) => boolean, init: RequestInit = {}): Promise<Message[]> {
  const controller = new AbortController();
  const res = await fetch(url, { ...init, signal: controller.signal });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/event-stream');
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  const messages: Message[] = [];
  let buffer = '';
  const timeout = setTimeout(() => controller.abort(), 30_000);
  try {
    while (!stop(messages)) {
      const { done, value } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event && data) messages.push({ event, data: JSON.parse(data), at: Date.now() });
        end = buffer.indexOf('\n\n');
      }
    }
  } finally {
    clearTimeout(timeout);
    controller.abort();
  }
  return messages;
}

const slowFlow = {
  format: 1,
  name: 'Streamed',
  nodes: [
    { id: 'start', type: 'manual' },
    { id: 'src', type: 'generate', params: { count: 2000 } },
    { id: 'batch', type: 'batch', params: { size: 20 } },
    { id: 'wait', type: 'delay', params: { ms: 0 } },
    { id: 'out', type: 'collect' },
  ],
  edges: [
    { source: 'start', target: 'src' },
    { source: 'src', target: 'batch' },
    { source: 'batch', target: 'wait' },
    { source: 'wait', target: 'out' },
  ],
};

describe('live events', () => {
  it('streams one run: a snapshot, then throttled updates with counts, batches and waits, until it ends', async () => {
    const big = {
      ...slowFlow,
      // 30 batches 50 ms apart: the run lasts at least 1.45 s however fast this machine is, so the
      // stream must carry several throttled updates (at most ten a second)
      nodes: slowFlow.nodes.map((n) =>
        n.id === 'src'
          ? { ...n, params: { count: 30_000 } }
          : n.id === 'batch'
            ? { ...n, params: { size: 1000 } }
            : n.id === 'wait'
              ? { ...n, params: { ms: 50 } }
              : n,
      ),
    };
    const headers = { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json' };
    const flow = (await (
      await fetch(`${base}/api/flows`, { method: 'POST', headers, body: JSON.stringify(big) })
    ).json()) as { id: string };
    const { runId } = (await (
      await fetch(`${base}/api/flows/${flow.id}/runs`, { method: 'POST', headers })
    ).json()) as { runId: string };
    const messages = await readEvents(`${base}/api/runs/${runId}/events?access_token=${TEST_TOKEN}`, (m) =>
      m.some(
        (x) =>
          (x.data as { events?: RunEvent[] }).events?.some((e) => e.type === 'status' && e.status === 'succeeded') ??
          false,
      ),
    );
    expect(messages[0]?.event).toBe('snapshot');
    const updates = messages.filter((m) => m.event === 'update');
    const events = updates.flatMap((m) => (m.data as { events: RunEvent[] }).events);
    expect(events.every((e) => e.runId === runId)).toBe(true);
    const kinds = new Set(events.map((e) => e.type));
    for (const kind of ['batch-started', 'batch', 'status']) expect(kinds).toContain(kind);
    const last = events.filter((e) => e.type === 'batch').at(-1) as Extract<RunEvent, { type: 'batch' }>;
    expect(last.nodeCounts.out?.in).toBe(30_000);
    // throttled: no more than 10 messages in any second (allowing one message of scheduling slack)
    for (const m of updates) {
      const inWindow = updates.filter((x) => x.at >= m.at && x.at < m.at + 1000).length;
      expect(inWindow).toBeLessThanOrEqual(11);
    }
    expect(updates.length).toBeGreaterThan(3);
  });

  it('streams every run on /api/events and refuses without a token', async () => {
    expect((await fetch(`${base}/api/events`)).status).toBe(401);
    expect((await fetch(`${base}/api/runs/999999/events?access_token=${TEST_TOKEN}`)).status).toBe(404);
    const headers = { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json' };
    const flow = (await (
      await fetch(`${base}/api/flows`, { method: 'POST', headers, body: JSON.stringify({ ...slowFlow, name: 'All' }) })
    ).json()) as { id: string };
    const reading = readEvents(
      `${base}/api/events`,
      (m) =>
        m.some((x) =>
          (x.data as { events: RunEvent[] }).events.some((e) => e.type === 'status' && e.status === 'succeeded'),
        ),
      { headers },
    );
    await new Promise((r) => setTimeout(r, 100));
    const { runId } = (await (
      await fetch(`${base}/api/flows/${flow.id}/runs`, { method: 'POST', headers })
    ).json()) as { runId: string };
    const events = (await reading).flatMap((m) => (m.data as { events: RunEvent[] }).events);
    const statuses = events.filter((e) => e.type === 'status' && e.runId === runId);
    expect(statuses.at(-1)).toMatchObject({ status: 'succeeded', counts: { read: 2000, succeeded: 2000 } });
  });

  it('tells when a run waits (a delay between batches) and when it no longer does', async () => {
    const headers = { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json' };
    const doc = { ...slowFlow, name: 'Waits' };
    doc.nodes = doc.nodes.map((n) =>
      n.id === 'wait' ? { ...n, params: { ms: 1100 } } : n.id === 'src' ? { ...n, params: { count: 40 } } : n,
    );
    const flow = (await (
      await fetch(`${base}/api/flows`, { method: 'POST', headers, body: JSON.stringify(doc) })
    ).json()) as { id: string };
    const { runId } = (await (
      await fetch(`${base}/api/flows/${flow.id}/runs`, { method: 'POST', headers })
    ).json()) as { runId: string };
    const messages = await readEvents(`${base}/api/runs/${runId}/events`, () => false, { headers });
    const waits = messages
      .filter((m) => m.event === 'update')
      .flatMap((m) => (m.data as { events: RunEvent[] }).events)
      .filter((e): e is Extract<RunEvent, { type: 'waiting' }> => e.type === 'waiting');
    // the run may already be waiting when the stream opens: then the snapshot says so
    const snapshot = messages[0]?.data as { waiting: unknown };
    expect(snapshot.waiting ?? waits[0]?.waiting).toMatchObject({ kind: 'delay', nodeId: 'wait' });
    expect(waits.at(-1)?.waiting).toBeNull();
  });
});

describe('coalesce', () => {
  it('keeps the latest status, progress and wait per run and every batch event', () => {
    const counts = emptyRunCounts();
    const batch = (n: number): RunEvent => ({
      type: 'batch',
      runId: '1',
      batch: { batchNo: n, size: 1, startedAt: 0, finishedAt: 0, succeeded: 1, filtered: 0, failed: 0 },
      counts,
      nodeCounts: {},
    });
    const events: RunEvent[] = [
      { type: 'status', runId: '1', status: 'queued', counts },
      { type: 'status', runId: '1', status: 'running', counts },
      { type: 'batch-started', runId: '1', batchNo: 1, size: 1, at: 0 },
      batch(1),
      { type: 'waiting', runId: '1', waiting: { kind: 'delay', nodeId: 'w', until: 5 } },
      batch(2),
      { type: 'waiting', runId: '1', waiting: null },
      { type: 'status', runId: '2', status: 'queued', counts },
    ];
    expect(coalesce(events).map((e) => `${e.runId}:${e.type}${e.type === 'batch' ? e.batch.batchNo : ''}`)).toEqual([
      '1:status',
      '1:batch-started',
      '1:batch1',
      '1:batch2',
      '1:waiting',
      '2:status',
    ]);
  });
});
