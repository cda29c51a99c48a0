import path from 'node:path';
import { chain, flowDocument } from '@sluice/engine/testing';
import { storedOutcomes } from '@sluice/server';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { api } from '../support/server.js';
import { crashedRun, crashFlow, type ErpStats } from './scenario.js';

const KILLS = Number(process.env.SLUICE_CRASH_KILLS ?? 5);
const RECORDS = Number(process.env.SLUICE_CRASH_RECORDS ?? 20_000);

/**
 * The crash test's flow writing in batch mode (groups of 20) with a filter that drops about one
 * record in ten at random: a resumed run keeps other records of the interrupted batch than its first
 * life did, so it groups them otherwise, and each group's request key is new. Each record in the
 * body carries its own key (`recordKeyField`), which the ERP honours.
 */
const batchFlow = flowDocument(
  [
    ...crashFlow.nodes.filter((n) => !['erp', 'rejected', 'dead-letter'].includes(n.id)),
    { id: 'some', type: 'filter', params: { condition: '$random() < 0.9' } },
    {
      id: 'erp',
      type: 'http-write',
      params: {
        connection: 'erp-sandbox',
        url: '/api/erp/work-orders/batch',
        mode: 'batch',
        batchSize: 20,
        bodyPath: 'items',
        successStatuses: [200, 207],
        resultsPath: 'results',
        recordKeyField: 'idempotencyKey',
        concurrency: 2,
      },
    },
  ],
  chain('start', 'work-orders', 'batch', 'pause', 'some', 'shape', 'erp'),
  { name: 'Crash test: work orders → ERP in batches' },
);

describe(`kill -9 the server ${KILLS} times while batch writes send ${RECORDS} records`, () => {
  it('writes no record twice at the ERP, however the resumed run groups the interrupted batch', async () => {
    const r = await crashedRun({ flow: batchFlow, kills: KILLS, records: RECORDS }, async (run) => {
      const db = new Database(path.join(run.dataDir, 'sluice.sqlite'), { readonly: true });
      const outcomes = storedOutcomes(db, Number(run.runId));
      db.close();
      const erp = await api<ErpStats & { recordReplays: number; log: { accepted: number }[] }>(
        `${run.sandbox.url}/erp/_sandbox/stats`,
      );
      return { ...run, outcomes, erp };
    });
    expect(r.progress, 'the run was still going at every kill').toHaveLength(KILLS);
    expect(r.final.status).toBe('succeeded');
    const { read, succeeded, failed, filtered, cancelled } = r.final.counts;
    expect(read).toBe(RECORDS);
    expect(succeeded + failed + filtered).toBe(RECORDS);
    expect(cancelled).toBe(0);
    expect(r.outcomes).toHaveLength(RECORDS);

    // the ERP's log of what it received: no record written twice
    const twice = Object.entries(r.erp.writes).filter(([, n]) => n > 1);
    expect(twice, 'records the ERP wrote more than once').toEqual([]);
    const acceptedInLog = r.erp.log.reduce((sum, e) => sum + e.accepted, 0);
    expect(acceptedInLog).toBe(Object.keys(r.erp.writes).length);
    // every record stored as written is at the ERP, every one stored as failed was rejected there
    const written = new Set(Object.keys(r.erp.writes));
    const succeededKeys = r.outcomes.filter((o) => o.status === 0).map((o) => o.key);
    expect(succeededKeys.filter((k) => !written.has(k))).toEqual([]);
    const failedKeys = r.outcomes.filter((o) => o.status === 2).map((o) => o.key);
    expect(failedKeys.filter((k) => r.erp.rejections[k] === undefined)).toEqual([]);
    console.log(
      `batch-write crash test: ${KILLS} kills at ${r.progress.join(', ')} settled records; ${RECORDS} records, ` +
        `${succeeded} written once, ${failed} rejected, ${filtered} filtered; ${r.erp.recordReplays} records ` +
        `answered from the ERP's per-record idempotency log, ${r.erp.replays} whole requests replayed, 0 written twice`,
    );
  }, 600_000);
});
