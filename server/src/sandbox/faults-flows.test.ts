import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startRun } from '@sluice/engine';
import { MemoryRunStore, validFlow } from '@sluice/engine/testing';
import type { Flow } from '@sluice/shared';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createConnectors } from '../connectors.js';
import { nodeRuntime, systemClock } from '../node-runtime.js';
import { REPO_ROOT } from '../paths.js';
import { workOrderAt } from './data.js';
import type { FaultSettingsInput, FaultStats } from './faults.js';
import { type Sandbox, startSandbox } from './index.js';

const WORK_ORDERS = 240;

/** The flaky-ERP example with quick retries and small pages, so faults hit many requests. */
function flow(): Flow {
  const doc = JSON.parse(readFileSync(path.join(REPO_ROOT, 'examples', 'misbehaving-erp.flow.json'), 'utf8'));
  for (const node of doc.nodes) {
    if (node.id === 'pause') node.params = { ms: 0 };
    if (node.id === 'work-orders') node.params.pageSize = 40;
    if (node.id === 'erp-write') node.params.retry = { maxAttempts: 10, initialDelayMs: 20, maxDelayMs: 200 };
  }
  return validFlow(doc);
}

const all = Array.from({ length: WORK_ORDERS }, (_, i) => workOrderAt(42, i));
const good = all.filter((w) => w.title && w.assetKey).map((w) => w.key);
const bad = all.filter((w) => !w.title || !w.assetKey).map((w) => w.key);

const cases: {
  name: string;
  erp?: FaultSettingsInput;
  maintenance?: FaultSettingsInput;
  faulted: keyof FaultStats['faulted'] | 'delayed';
}[] = [
  { name: 'random latency on the ERP', erp: { seed: 3, latency: { min: 1, max: 15 } }, faulted: 'delayed' },
  {
    name: 'the ERP down for its first 25 requests (connections reset)',
    erp: { seed: 4, down: { requests: 25, answer: 'reset' } },
    faulted: 'down',
  },
  {
    name: 'the ERP down for 400 ms (503)',
    erp: { seed: 5, down: { from: 0, until: 400, answer: 503 } },
    faulted: 'down',
  },
  { name: 'a slow first byte from the ERP', erp: { seed: 6, slowFirstByteMs: 25 }, faulted: 'delayed' },
  {
    name: '30% 503s and a rate limit on the maintenance system (the source)',
    maintenance: { seed: 7, transient: { share: 0.3 }, rateLimit: { requests: 3, windowMs: 1000 } },
    faulted: 'transient',
  },
];

describe('every misbehaviour, end to end', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await startSandbox({ workOrders: WORK_ORDERS });
  });
  afterEach(() => {
    sandbox.faults.erp.clear();
    sandbox.faults.maintenance.clear();
  });
  afterAll(() => sandbox.close());

  for (const c of cases) {
    it(`with ${c.name}: every good work order arrives exactly once, every incomplete one fails with its reason`, async () => {
      const before = sandbox.erpStats();
      const writesBefore = { ...before.writes };
      if (c.erp) sandbox.faults.erp.set(c.erp);
      if (c.maintenance) sandbox.faults.maintenance.set(c.maintenance);
      const store = new MemoryRunStore();
      const result = await startRun({
        runId: `faults-${c.faulted}-${Math.random().toString(36).slice(2, 7)}`,
        flow: flow(),
        clock: systemClock,
        runtime: nodeRuntime,
        store,
        // a short breaker cooldown, so a system that is down for a while is probed again soon
        connectors: createConnectors(
          sandbox.connections.map((conn) => ({ ...conn, breaker: { failureThreshold: 5, cooldownMs: 150 } })),
        ),
      }).done;
      expect(result.status, result.error).toBe('succeeded');
      expect(result.counts).toMatchObject({ read: WORK_ORDERS, succeeded: good.length, failed: bad.length });
      const stats = sandbox.erpStats();
      // each good work order written exactly once by this run (a replay answered from the idempotency log is not a write)
      for (const key of good) expect((stats.writes[key] ?? 0) - (writesBefore[key] ?? 0), key).toBe(1);
      const failed = store.byStatus('failed');
      expect(failed.map((o) => o.key).sort()).toEqual([...bad].sort());
      for (const o of failed) expect(o.error?.message).toBe(`HTTP 422: ${stats.rejections[o.key]}`);
      const system = c.erp ? sandbox.faults.erp : sandbox.faults.maintenance;
      const seen = system.get().stats;
      expect(c.faulted === 'delayed' ? seen.delayed : seen.faulted[c.faulted]).toBeGreaterThan(0);
    }, 60_000);
  }
});
