import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FlowDetail, RunDetail } from '@sluice/shared';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { api, eventually, type RunningServer, startSandboxProcess, startServer } from '../support/server.js';

/** Kills and records are parameters: the benchmark script runs this with 20 kills. */
const KILLS = Number(process.env.SLUICE_CRASH_KILLS ?? 5);
const RECORDS = Number(process.env.SLUICE_CRASH_RECORDS ?? 20_000);

interface ErpStats {
  accepted: number;
  replays: number;
  writes: Record<string, number>;
  rejections: Record<string, string>;
}

const dataDir = mkdtempSync(path.join(tmpdir(), 'sluice-crash-'));
let sandbox: RunningServer | undefined;
let server: RunningServer | undefined;

afterAll(async () => {
  await server?.stop();
  await sandbox?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const flow = {
  format: 1,
  name: 'Crash test: work orders → ERP',
  nodes: [
    { id: 'start', type: 'manual' },
    {
      id: 'work-orders',
      type: 'http-source',
      params: {
        connection: 'maintenance-sandbox',
        url: '/api/eam/work-orders',
        keyField: 'key',
        pageSize: 100,
        pagination: { type: 'token' },
      },
    },
    { id: 'batch', type: 'batch', params: { size: 50 } },
    { id: 'pause', type: 'delay', params: { ms: 20 } },
    {
      id: 'shape',
      type: 'map',
      params: {
        keep: 'none',
        fields: [
          { name: 'externalKey', expression: 'key' },
          { name: 'title', expression: 'title' },
          { name: 'assetKey', expression: 'assetKey' },
        ],
      },
    },
    {
      id: 'erp',
      type: 'http-write',
      params: { connection: 'erp-sandbox', url: '/api/erp/work-orders', concurrency: 4 },
    },
    { id: 'rejected', type: 'error-branch' },
    { id: 'dead-letter', type: 'collect' },
  ],
  edges: [
    { source: 'start', target: 'work-orders' },
    { source: 'work-orders', target: 'batch' },
    { source: 'batch', target: 'pause' },
    { source: 'pause', target: 'shape' },
    { source: 'shape', target: 'erp' },
    { source: 'erp', sourcePort: 'error', target: 'rejected' },
    { source: 'rejected', target: 'dead-letter' },
  ],
};

describe(`kill -9 the server ${KILLS} times during a ${RECORDS}-record run`, () => {
  it('resumes every time and ends with every record accounted for once and written once', async () => {
    sandbox = await startSandboxProcess(RECORDS);
    const env = { SLUICE_SANDBOX_URL: sandbox.url };
    server = await startServer(env, dataDir);
    const created = await api<FlowDetail>(`${server.url}/api/flows`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(flow),
    });
    const { runId } = await api<{ runId: string }>(`${server.url}/api/flows/${created.id}/runs`, { method: 'POST' });

    const progress: number[] = [];
    for (let kill = 0; kill < KILLS; kill++) {
      const before = (await api<RunDetail>(`${server.url}/api/runs/${runId}`)).counts.read;
      // let it make some progress, then kill it at a random moment
      await eventually(async () => {
        const run = await api<RunDetail>(`${server!.url}/api/runs/${runId}`);
        return run.counts.read > before || run.status !== 'running' ? true : undefined;
      });
      await new Promise((r) => setTimeout(r, 200 + Math.random() * 1500));
      const run = await api<RunDetail>(`${server.url}/api/runs/${runId}`);
      if (run.status !== 'running') break;
      progress.push(run.counts.succeeded + run.counts.failed);
      await server.crash();
      server = await startServer(env, dataDir);
    }
    expect(progress.length, 'the run was still going at every kill').toBe(KILLS);

    const final = await eventually(
      async () => {
        const r = await api<RunDetail>(`${server!.url}/api/runs/${runId}`);
        return ['succeeded', 'failed', 'cancelled'].includes(r.status) ? r : undefined;
      },
      180_000,
      500,
    );
    expect(final.status).toBe('succeeded');
    const { read, succeeded, failed, filtered, cancelled } = final.counts;
    expect(read).toBe(RECORDS);
    expect(succeeded + failed + filtered + cancelled).toBe(RECORDS);
    expect(cancelled).toBe(0);
    expect(final.nodeCounts.erp).toEqual({ in: RECORDS, out: succeeded, error: failed, filtered: 0 });

    // the stored log: one outcome per record, every key once, nothing lost
    const db = new Database(path.join(dataDir, 'sluice.sqlite'), { readonly: true });
    const rows = db
      .prepare(
        'SELECT COUNT(*) AS n, COUNT(DISTINCT key) AS keys, MIN(seq) AS lo, MAX(seq) AS hi FROM record_outcomes WHERE run_id = ?',
      )
      .get(Number(runId));
    const byStatus = db
      .prepare('SELECT status, COUNT(*) AS n FROM record_outcomes WHERE run_id = ? GROUP BY status ORDER BY status')
      .all(Number(runId));
    const batches = db
      .prepare('SELECT COUNT(*) AS n, SUM(size) AS records FROM batches WHERE run_id = ?')
      .get(Number(runId));
    db.close();
    expect(rows).toEqual({ n: RECORDS, keys: RECORDS, lo: 0, hi: RECORDS - 1 });
    expect(byStatus).toEqual([
      { status: 0, n: succeeded },
      { status: 2, n: failed },
    ]);
    expect(batches).toEqual({ n: RECORDS / 50, records: RECORDS });

    // the ERP: each good work order written exactly once, each rejected one failed in Sluice
    const stats = await api<ErpStats>(`${sandbox.url}/erp/_sandbox/stats`);
    const duplicated = Object.values(stats.writes).filter((n) => n > 1).length;
    expect(duplicated).toBe(0);
    expect(Object.keys(stats.writes)).toHaveLength(succeeded);
    expect(Object.keys(stats.rejections)).toHaveLength(failed);
    console.log(
      `crash test: ${KILLS} kills at ${progress.join(', ')} settled records; ${RECORDS} records, ${succeeded} written once, ` +
        `${failed} rejected, ${stats.replays} replayed writes answered from the idempotency log, 0 lost, 0 duplicated`,
    );
  });
});
