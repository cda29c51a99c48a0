import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chain, flowDocument } from '@sluice/engine/testing';
import { storedOutcomes } from '@sluice/server';
import { type CollectedRecord, type FlowDetail, isFinalRunStatus, type RunDetail } from '@sluice/shared';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { api, eventually, type RunningServer, startServer } from '../support/server.js';

const RECORDS = 20_000;
const KEYS = 7_000;
const KILLS = 3;

/** Generated records (index, group = index % 10, amount) → batches → dedupe by index % 7000 → per group over the run. */
const flow = flowDocument(
  [
    { id: 'start', type: 'manual' },
    { id: 'src', type: 'generate', params: { count: RECORDS, pageSize: 500 } },
    { id: 'batch', type: 'batch', params: { size: 100 } },
    { id: 'pause', type: 'delay', params: { ms: 25 } },
    { id: 'once', type: 'dedupe', params: { key: `index % ${KEYS}` } },
    {
      id: 'totals',
      type: 'aggregate',
      params: {
        groupBy: 'group',
        scope: 'run',
        fields: [
          { name: 'n', op: 'count' },
          { name: 'amount', op: 'sum', value: 'amount' },
          { name: 'least', op: 'min', value: 'index' },
          { name: 'most', op: 'max', value: 'index' },
        ],
      },
    },
    { id: 'keep', type: 'collect' },
  ],
  chain('start', 'src', 'batch', 'pause', 'once', 'totals', 'keep'),
  { name: 'Crash test: dedupe and aggregate' },
);

/** What the groups must hold: the records 0..6999 (the first of each key), by index % 10. */
function expectedGroups() {
  return Array.from({ length: 10 }, (_, group) => {
    const indexes = Array.from({ length: KEYS / 10 }, (_, i) => i * 10 + group);
    return {
      group,
      n: indexes.length,
      amount: indexes.reduce((sum, i) => sum + ((i * 7919) % 10_000), 0),
      least: group,
      most: KEYS - 10 + group,
    };
  });
}

describe(`kill -9 the server ${KILLS} times during a run that dedupes and aggregates ${RECORDS} records`, () => {
  it('resumes from the stored keys and groups: every repeat dropped once, every group exact, every record once', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'sluice-crash-shaping-'));
    let server: RunningServer | undefined;
    try {
      server = await startServer({}, dataDir);
      const created = await api<FlowDetail>(`${server.url}/api/flows`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(flow),
      });
      const { runId } = await api<{ runId: string }>(`${server.url}/api/flows/${created.id}/runs`, {
        method: 'POST',
      });
      const progress: number[] = [];
      for (let kill = 0; kill < KILLS; kill++) {
        const current = server;
        const before = (await api<RunDetail>(`${current.url}/api/runs/${runId}`)).counts.read;
        await eventually(async () => {
          const run = await api<RunDetail>(`${current.url}/api/runs/${runId}`);
          return run.counts.read > before || run.status !== 'running' ? true : undefined;
        });
        await new Promise((r) => setTimeout(r, 300 + Math.random() * 1200));
        const run = await api<RunDetail>(`${current.url}/api/runs/${runId}`);
        if (run.status !== 'running') break;
        progress.push(run.counts.succeeded + run.counts.filtered);
        await current.crash();
        server = await startServer({}, dataDir);
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
      expect(progress.length, `killed at ${progress.join(', ')} settled records`).toBe(KILLS);
      expect(final.status).toBe('succeeded');
      expect(final.counts).toEqual({
        read: RECORDS + 10,
        succeeded: KEYS + 10,
        filtered: RECORDS - KEYS,
        failed: 0,
        cancelled: 0,
      });
      expect(final.nodeCounts.once).toEqual({ in: RECORDS, out: KEYS, error: 0, filtered: RECORDS - KEYS });
      expect(final.nodeCounts.totals).toEqual({ in: KEYS, out: KEYS, error: 0, filtered: 0 });
      expect(final.nodeCounts.keep).toEqual({ in: 10, out: 10, error: 0, filtered: 0 });

      const kept = await api<{ items: CollectedRecord[] }>(`${live.url}/api/runs/${runId}/collected?limit=50`);
      expect(kept.items.map((c) => c.data)).toEqual(expectedGroups());

      // the stored log: one outcome per record read or made, each key once
      await live.stop();
      server = undefined;
      const db = new Database(path.join(dataDir, 'sluice.sqlite'), { readonly: true });
      const outcomes = storedOutcomes(db, Number(runId));
      const keys = db
        .prepare('SELECT COUNT(DISTINCT key) FROM outcome_keys WHERE run_id = ?')
        .pluck()
        .get(Number(runId));
      db.close();
      expect(outcomes).toHaveLength(RECORDS + 10);
      expect(new Set(outcomes.map((o) => o.seq)).size).toBe(RECORDS + 10);
      expect(keys).toBe(RECORDS + 10);
      console.log(`shaping crash test: ${KILLS} kills at ${progress.join(', ')} settled records; groups exact`);
    } finally {
      await server?.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 600_000);
});
