import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type FlowDetail, isFinalRunStatus, type RunDetail } from '@sluice/shared';
import { afterAll, describe, expect, it } from 'vitest';
import { engineFlow } from '../bench/load.js';
import { api, eventually, logLines, type RunningServer, startServer } from '../support/server.js';

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
      body: JSON.stringify(engineFlow(RECORDS, 20)), // generate → batch 100 → delay 20 ms → map → filter → collect
    });
    const { runId } = await api<{ runId: string }>(`${first.url}/api/flows/${flow.id}/runs`, { method: 'POST' });
    await eventually(async () => {
      const r = await api<RunDetail>(`${first.url}/api/runs/${runId}`);
      return r.counts.read >= 2_000 ? r : undefined;
    });
    await first.stop();
    expect(logLines(first.output()).map((l) => l.msg)).toContain(
      'stopping; running runs resume from their last checkpoint at the next start',
    );

    const second = await startServer({}, dataDir);
    servers.push(second);
    expect(logLines(second.output())).toContainEqual(
      expect.objectContaining({
        runId,
        flowId: flow.id,
        interrupted: 'running',
        msg: expect.stringMatching(/^resuming the run from record \d+/),
      }),
    );
    const run = await eventually(async () => {
      const r = await api<RunDetail>(`${second.url}/api/runs/${runId}`);
      return isFinalRunStatus(r.status) ? r : undefined;
    });
    expect(run.error ?? null).toBeNull();
    expect(run.status).toBe('succeeded');
    // the filter drops every tenth record (group 0)
    expect(run.counts).toMatchObject({ read: RECORDS, succeeded: RECORDS * 0.9, filtered: RECORDS * 0.1, failed: 0 });
    expect(run.counts.cancelled).toBe(0);
    const collected = await api<{ items: unknown[]; nextCursor: string | null }>(
      `${second.url}/api/runs/${runId}/records?status=succeeded&limit=1&key=rec-29999`,
    );
    expect(collected.items).toHaveLength(1);
  }, 120_000);
});
