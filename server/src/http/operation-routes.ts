import type { OperationsConnection, OperationsSchedule, RunSummary } from '@sluice/shared';
import { NotFoundError } from '../errors.js';
import type { AppDeps } from './deps.js';
import type { ApiRouter } from './spec.js';

/** Unfinished runs listed per status, at most: the screen is for what goes on now, not history. */
const RUNS_PER_STATUS = 200;

/** The operations view: what runs and waits now, gathered in one answer for the editor's operations screen. */
export function registerOperationRoutes(api: ApiRouter, deps: AppDeps): void {
  api.add('getOperations', async () => {
    const now = Date.now();
    const [runs, schedules, connections] = await Promise.all([
      unfinishedRuns(deps),
      schedulesOf(deps),
      connectionsOf(deps),
    ]);
    return {
      at: new Date(now).toISOString(),
      process: {
        owner: deps.storage.leases.owner,
        executing: deps.runner.activeCount,
        concurrency: deps.settings.concurrency,
      },
      runs,
      schedules,
      connections,
      writer: deps.storage.runStore.lag(),
    };
  });
}

/** Running, paused and queued runs of every process (test runs are left out of run lists), running first. */
async function unfinishedRuns(deps: AppDeps): Promise<RunSummary[]> {
  const pages = await Promise.all(
    (['running', 'paused', 'queued'] as const).map((status) => deps.runs.list({ status, limit: RUNS_PER_STATUS })),
  );
  return pages.flatMap((p) => p.items);
}

/** Every schedule of the published, enabled flows, with its next fire and what its last fire made. */
async function schedulesOf(deps: AppDeps): Promise<OperationsSchedule[]> {
  const out: OperationsSchedule[] = [];
  for (const flow of await deps.flows.published()) {
    let described: Awaited<ReturnType<AppDeps['scheduler']['describe']>>;
    try {
      described = await deps.scheduler.describe(flow.id);
    } catch (err) {
      if (err instanceof NotFoundError) continue; // deleted meanwhile
      throw err;
    }
    for (const s of described.schedules) {
      const last = s.lastRunId ? await deps.runs.get(s.lastRunId).catch(() => undefined) : undefined;
      out.push({
        flowId: flow.id,
        flowName: flow.document.name,
        nodeId: s.nodeId,
        description: s.description,
        cron: s.cron,
        timezone: s.timezone,
        nextAt: s.next[0] ?? null,
        lastSlot: s.lastSlot,
        lastRun: last
          ? { id: last.id, status: last.status, finishedAt: last.finishedAt, failed: last.counts.failed }
          : null,
      });
    }
  }
  return out.sort((a, b) => (a.nextAt ?? '~').localeCompare(b.nextAt ?? '~'));
}

/** Each connection with its breaker and learnt pace in this process, its limits and its last Test. */
async function connectionsOf(deps: AppDeps): Promise<OperationsConnection[]> {
  const views = await deps.connections.list();
  const breakers = deps.runner.breakers.snapshot(views.map((v) => v.name));
  return views.map((v) => {
    const b = breakers[v.name];
    return {
      name: v.name,
      baseUrl: v.baseUrl,
      builtIn: v.builtIn,
      breaker: b
        ? {
            state: b.state,
            failures: b.failures,
            openUntil: b.openUntil === null ? null : new Date(b.openUntil).toISOString(),
          }
        : null,
      limits: v.limits,
      pace: deps.limits?.current(v.name) ?? null,
      status: v.status,
    };
  });
}
