import { statSync } from 'node:fs';
import { startRun } from '@sluice/engine';
import { validFlow } from '@sluice/engine/testing';
import {
  createConnectors,
  FlowRepository,
  nodeRuntime,
  SqliteFlows,
  SqliteRunQueries,
  SqliteRunStore,
  systemClock,
} from '@sluice/server';
import { prune } from '../../server/src/storage/sqlite/retention.js';
import { engineFlow } from './load.js';
import { freshDb, percentile } from './timed-run.js';

/**
 * Retention at steady state: `runs` runs of the engine flow over `records` records each, one flow, on
 * the run store the server uses, with retention keeping the flow's newest `runs / 2` runs (age not
 * counted) applied after each run, as the server's pruning would. The file should stop growing once
 * pruning starts: what the pruned runs free is used again by the next ones. Reports the file's size
 * (after a passive checkpoint) when the runs kept are reached and at the end, and the time of each prune.
 */
export async function retentionSteady(runs: number, records: number) {
  const kept = Math.floor(runs / 2);
  const { db, file, dispose } = freshDb();
  const c = db.$client;
  const flow = await new FlowRepository(new SqliteFlows(db)).create(engineFlow(records));
  const repo = new SqliteRunQueries(db);
  const store = new SqliteRunStore(db);
  await store.ready();
  const doc = validFlow(engineFlow(records));
  const sizes: number[] = [];
  const pruneMs: number[] = [];
  const t0 = performance.now();
  for (let r = 0; r < runs; r++) {
    const runId = await repo.create({
      flowId: flow.id,
      flowVersionId: Number(flow.versionId),
      flowName: flow.name,
      trigger: 'schedule',
    });
    const result = await startRun({
      runId,
      flow: doc,
      clock: systemClock,
      runtime: nodeRuntime,
      store,
      connectors: createConnectors([]),
    }).done;
    if (result.counts.read !== records) throw new Error(`run ${r + 1}: counts ${JSON.stringify(result.counts)}`);
    const p0 = performance.now();
    prune(db, { days: 0, runsPerFlow: kept }, Date.now());
    pruneMs.push(performance.now() - p0);
    c.pragma('wal_checkpoint(PASSIVE)');
    sizes.push(statSync(file).size);
  }
  const seconds = (performance.now() - t0) / 1000;
  await store.close();
  c.close();
  dispose();
  const mb = (bytes: number) => bytes / 1024 / 1024;
  const atKept = sizes[kept - 1] as number;
  const atEnd = sizes[runs - 1] as number;
  return {
    runs,
    kept,
    seconds,
    sizeAtKeptMb: mb(atKept),
    sizeAtEndMb: mb(atEnd),
    growthAfterKeptPct: ((atEnd - atKept) / atKept) * 100,
    pruneMsP50: percentile(pruneMs, 50),
    pruneMsP99: percentile(pruneMs, 99),
  };
}
