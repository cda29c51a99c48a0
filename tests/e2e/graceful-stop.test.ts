import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FlowDetail, RunDetail } from '@sluice/shared';
import { afterAll, describe, expect, it } from 'vitest';
import { api, eventually, type RunningServer, startServer } from '../support/server.js';

const dataDir = mkdtempSync(path.join(tmpdir(), 'sluice-graceful-'));
const servers: RunningServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const RECORDS = 30_000;

describe('stopping the server while a run is going (SIGTERM)', () => {
  it('leaves the run to be resumed by the next start, which finishes it with every record once', async () => {
    const first = await startServer({}, dataDir);
    servers.push(first);
    const flow = await api<FlowDetail>(`${first.url}/api/flows`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        format: 1,
        name: 'Long run',
        nodes: [
          { id: 'start', type: 'manual' },
          { id: 'gen', type: 'generate', params: { count: RECORDS, pageSize: 500 } },
          { id: 'batch', type: 'batch', params: { size: 100 } },
          { id: 'pause', type: 'delay', params: { ms: 20 } },
          { id: 'shape', type: 'map', params: { fields: [{ name: 'total', expression: 'amount * 2' }] } },
          { id: 'out', type: 'collect' },
        ],
        edges: [
          { source: 'start', target: 'gen' },
          { source: 'gen', target: 'batch' },
          { source: 'batch', target: 'pause' },
          { source: 'pause', target: 'shape' },
          { source: 'shape', target: 'out' },
        ],
      }),
    });
    const { runId } = await api<{ runId: string }>(`${first.url}/api/flows/${flow.id}/runs`, { method: 'POST' });
    await eventually(async () => {
      const r = await api<RunDetail>(`${first.url}/api/runs/${runId}`);
      return r.counts.succeeded >= 2_000 ? r : undefined;
    });
    await first.stop();
    expect(first.output()).toContain('Stopping; running runs resume from their last checkpoint');

    const second = await startServer({}, dataDir);
    servers.push(second);
    expect(second.output()).toMatch(new RegExp(`Resuming run ${runId}, interrupted while running`));
    const run = await eventually(async () => {
      const r = await api<RunDetail>(`${second.url}/api/runs/${runId}`);
      return ['succeeded', 'failed', 'cancelled'].includes(r.status) ? r : undefined;
    });
    expect(run.error ?? null).toBeNull();
    expect(run.status).toBe('succeeded');
    expect(run.counts).toMatchObject({ read: RECORDS, succeeded: RECORDS, failed: 0, cancelled: 0 });
    const collected = await api<{ items: unknown[]; nextCursor: string | null }>(
      `${second.url}/api/runs/${runId}/records?status=succeeded&limit=1&key=rec-29999`,
    );
    expect(collected.items).toHaveLength(1);
  }, 120_000);
});
