import { isFinalRunStatus, type RecordOutcomeView } from '@sluice/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, eventually, type RunningServer, startServer } from '../support/server.js';

let server: RunningServer;

beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server?.stop());

const CODE = `
if (record.kind === 'loop') { while (true) {} }
if (record.kind === 'gigabyte') { const a = []; for (let i = 0; i < 1024; i++) a.push(new Uint8Array(1048576)); }
if (record.kind === 'throw') throw new Error('no price for ' + record.key);
return { ...record, doubled: record.n * 2 };
`;

const kinds = ['ok', 'loop', 'ok', 'gigabyte', 'throw', 'ok'];

describe('a code node, through the real server', () => {
  it('fails alone the records that loop, allocate a gigabyte or throw, while /api/health answers throughout', async () => {
    const sluice = apiClient(server.url);
    const flow = await sluice.call('createFlow', {
      body: {
        format: 2,
        name: 'Code: limits',
        nodes: [
          { id: 'start', type: 'manual' },
          {
            id: 'src',
            type: 'inline-records',
            params: { keyField: 'key', records: kinds.map((kind, n) => ({ key: `r${n}`, kind, n })) },
          },
          { id: 'code', type: 'code', params: { code: CODE, timeoutMs: 1000, memoryMb: 32 } },
          { id: 'out', type: 'collect' },
        ],
        edges: [
          { source: 'start', target: 'src' },
          { source: 'src', target: 'code' },
          { source: 'code', target: 'out' },
        ],
      },
    });
    const started = Date.now();
    const { runId } = await sluice.call('startRun', { params: { id: flow.id } });

    // ask for health every 50 ms while the run goes on: each answer must come quickly
    const waits: number[] = [];
    let running = true;
    const probe = (async () => {
      while (running) {
        const asked = performance.now();
        const res = await fetch(`${server.url}/api/health`);
        expect(res.status).toBe(200);
        await res.json();
        waits.push(performance.now() - asked);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    const run = await eventually(async () => {
      const r = await sluice.call('getRun', { params: { id: runId } });
      return isFinalRunStatus(r.status) ? r : undefined;
    });
    running = false;
    await probe;

    expect(run.status).toBe('succeeded');
    expect(run.counts).toEqual({ read: 6, succeeded: 3, filtered: 0, failed: 3, cancelled: 0 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000); // the loop ran to its limit
    const failed: RecordOutcomeView[] = (
      await sluice.call('listRecords', { params: { id: runId }, query: { status: 'failed', limit: 10 } })
    ).items;
    expect(failed.map((o) => [o.key, o.nodeId, o.error?.code, o.error?.message])).toEqual([
      ['r1', 'code', 'code_time', 'ran longer than 1000 ms (the limit)'],
      ['r3', 'code', 'code_memory', 'used more than 32 MB (the limit)'],
      ['r4', 'code', 'code_threw', 'threw Error: no price for r4'],
    ]);
    const ok = (await sluice.call('listRecords', { params: { id: runId }, query: { status: 'succeeded', limit: 10 } }))
      .items;
    expect(ok.map((o) => o.key)).toEqual(['r0', 'r2', 'r5']);
    const kept = (await sluice.call('listCollected', { params: { id: runId }, query: { limit: 10 } })).items;
    expect(kept.map((c) => c.data)).toEqual([0, 2, 5].map((n) => ({ key: `r${n}`, kind: 'ok', n, doubled: n * 2 })));
    // the run took over a second (the loop); health answered all along, never held for long
    expect(waits.length).toBeGreaterThan(10);
    // far below the 1 s the loop takes: the code runs on a thread of its own, not on the event loop
    expect(Math.max(...waits)).toBeLessThan(500);
  });
});
