import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chain, flowDocument } from '@sluice/engine/testing';
import { storedOutcomes } from '@sluice/server';
import { type FlowDetail, type FlowInput, isFinalRunStatus, type RunDetail } from '@sluice/shared';
import Database from 'better-sqlite3';
import { api, eventually, type RunningServer, startSandboxProcess, startServer } from '../support/server.js';

export interface ErpStats {
  accepted: number;
  replays: number;
  writes: Record<string, number>;
  rejections: Record<string, string>;
}

export interface CrashResult {
  runId: string;
  kills: number;
  /** Settled records at each kill. */
  progress: number[];
  final: RunDetail;
  stored: { n: number; keys: number; lo: number; hi: number };
  byStatus: { status: number; n: number }[];
  batches: { n: number; records: number };
  erp: ErpStats;
  recordsLost: number;
  recordsDuplicated: number;
}

export const crashFlow = flowDocument(
  [
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
  [
    ...chain('start', 'work-orders', 'batch', 'pause', 'shape', 'erp'),
    ...chain('erp:error', 'rejected', 'dead-letter'),
  ],
  { name: 'Crash test: work orders → ERP' },
);

/** A run of a flow that was killed with SIGKILL during its course, as the callback of `crashedRun` sees it. */
export interface CrashedRun {
  runId: string;
  /** Settled records at each kill. */
  progress: number[];
  final: RunDetail;
  dataDir: string;
  /** The server's files folder (the default: `<data dir>/files`). */
  filesDir: string;
  sandbox: RunningServer;
}

/**
 * Starts the sandbox systems in their own process (with `records` work orders) and the real server,
 * starts a run of `flow`, kills the server with SIGKILL `kills` times at random moments (restarting
 * it on the same data each time), waits for the run to end, and hands it to `inspect` before
 * everything is stopped and removed.
 */
export async function crashedRun<T>(
  options: { flow: FlowInput; kills: number; records: number },
  inspect: (run: CrashedRun) => Promise<T>,
): Promise<T> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'sluice-crash-'));
  let sandbox: RunningServer | undefined;
  let server: RunningServer | undefined;
  try {
    sandbox = await startSandboxProcess(options.records);
    const env = { SLUICE_SANDBOX_URL: sandbox.url };
    server = await startServer(env, dataDir);
    const created = await api<FlowDetail>(`${server.url}/api/flows`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(options.flow),
    });
    const { runId } = await api<{ runId: string }>(`${server.url}/api/flows/${created.id}/runs`, { method: 'POST' });

    const progress: number[] = [];
    for (let kill = 0; kill < options.kills; kill++) {
      const current = server;
      const before = (await api<RunDetail>(`${current.url}/api/runs/${runId}`)).counts.read;
      await eventually(async () => {
        const run = await api<RunDetail>(`${current.url}/api/runs/${runId}`);
        return run.counts.read > before || run.status !== 'running' ? true : undefined;
      });
      await new Promise((r) => setTimeout(r, 200 + Math.random() * 1500));
      const run = await api<RunDetail>(`${current.url}/api/runs/${runId}`);
      if (run.status !== 'running') break;
      progress.push(run.counts.succeeded + run.counts.failed);
      await current.crash();
      server = await startServer(env, dataDir);
    }

    const live = server;
    const final = await eventually(
      async () => {
        const r = await api<RunDetail>(`${live.url}/api/runs/${runId}`);
        return isFinalRunStatus(r.status) ? r : undefined;
      },
      300_000,
      500,
    );
    return await inspect({ runId, progress, final, dataDir, filesDir: path.join(dataDir, 'files'), sandbox });
  } finally {
    await server?.stop();
    await sandbox?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * Runs `flow` (by default the work orders → ERP flow) through `kills` kills with `records` work
 * orders, and reads back what is stored and what the ERP holds.
 */
export function runCrashScenario(kills: number, records: number, flow: FlowInput = crashFlow): Promise<CrashResult> {
  return crashedRun({ flow, kills, records }, async ({ runId, progress, final, dataDir, sandbox }) => {
    const db = new Database(path.join(dataDir, 'sluice.sqlite'), { readonly: true });
    // every packed entry counted, so a record stored twice shows (reading by seq would hide it)
    const outcomes = storedOutcomes(db, Number(runId));
    const stored = {
      n: db.prepare('SELECT COALESCE(SUM(count), 0) FROM outcome_packs WHERE run_id = ?').pluck().get(Number(runId)),
      keys: db.prepare('SELECT COUNT(DISTINCT key) FROM outcome_keys WHERE run_id = ?').pluck().get(Number(runId)),
      lo: outcomes[0]?.seq ?? null,
      hi: outcomes[outcomes.length - 1]?.seq ?? null,
    } as CrashResult['stored'];
    const counted = new Map<number, number>();
    for (const o of outcomes) counted.set(o.status, (counted.get(o.status) ?? 0) + 1);
    const byStatus = [...counted]
      .sort(([a], [b]) => a - b)
      .map(([status, n]) => ({ status, n })) as CrashResult['byStatus'];
    const batches = db
      .prepare('SELECT COUNT(*) AS n, SUM(size) AS records FROM batches WHERE run_id = ?')
      .get(Number(runId)) as CrashResult['batches'];
    db.close();
    const erp = await api<ErpStats>(`${sandbox.url}/erp/_sandbox/stats`);
    return {
      runId,
      kills: progress.length,
      progress,
      final,
      stored,
      byStatus,
      batches,
      erp,
      recordsLost: records - stored.keys,
      recordsDuplicated: Object.values(erp.writes).filter((n) => n > 1).length + (stored.n - stored.keys),
    };
  });
}
