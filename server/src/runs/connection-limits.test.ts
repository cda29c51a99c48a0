import type { RunEvent, Waiting } from '@sluice/engine';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestSluice, type TestSluice } from '../http/test-support.js';
import { SANDBOX_DEFAULTS, type Sandbox } from '../sandbox/index.js';

let t: TestSluice;

beforeAll(async () => {
  t = await openTestSluice({ workOrders: 10 });
});
afterAll(() => t.close());

describe("a stored connection's limits", () => {
  it('pace a run writing through it: 20 writes at 10 per second take at least 1.8 s, the run waiting on the limit', async () => {
    const { connections, flows, runner } = t.parts;
    await connections.create({
      name: 'paced-erp',
      baseUrl: `${t.parts.sandbox.url}/erp`,
      auth: 'bearer',
      secret: SANDBOX_DEFAULTS.erpToken,
      limits: { maxPerSecond: 10 },
    });
    const flow = await flows.create({
      format: 1,
      name: 'Paced writes',
      nodes: [
        { id: 'start', type: 'manual' },
        { id: 'src', type: 'generate', params: { count: 20, pageSize: 20 } },
        {
          id: 'to-erp',
          type: 'map',
          params: {
            keep: 'none',
            fields: [
              { name: 'externalKey', expression: 'key' },
              { name: 'name', expression: 'label' },
            ],
          },
        },
        // eight at once: without the limit the twenty would be written in a few milliseconds
        {
          id: 'erp-write',
          type: 'http-write',
          params: { connection: 'paced-erp', url: '/api/erp/assets', concurrency: 8 },
        },
      ],
      edges: [
        { source: 'start', target: 'src' },
        { source: 'src', target: 'to-erp' },
        { source: 'to-erp', target: 'erp-write' },
      ],
    });
    // the test server starts its own sandbox
    const sandbox = t.parts.sandbox as Sandbox;
    const waits: { runId: string; waiting: Waiting }[] = [];
    const listen = (e: RunEvent) => {
      if (e.type === 'waiting' && e.waiting) waits.push({ runId: e.runId, waiting: e.waiting });
    };
    runner.events.on('event', listen);
    try {
      const before = sandbox.erpStats().entities.assets.accepted;
      const started = performance.now();
      const runId = await runner.enqueue(flow.id, 'api');
      const result = await runner.wait(runId);
      const took = performance.now() - started;
      expect(result.status).toBe('succeeded');
      expect(result.counts).toMatchObject({ succeeded: 20, failed: 0 });
      expect(sandbox.erpStats().entities.assets.accepted - before).toBe(20);
      // one request every 100 ms, the first at once: the twentieth starts 1.9 s after the first (a
      // margin left for timers)
      expect(took).toBeGreaterThanOrEqual(1800);
      expect(waits.find((e) => e.runId === runId && e.waiting.kind === 'limit')?.waiting).toMatchObject({
        connection: 'paced-erp',
        nodeId: 'erp-write',
        limits: { maxPerSecond: 10 },
      });
    } finally {
      runner.events.off('event', listen);
    }
  }, 20_000);
});
