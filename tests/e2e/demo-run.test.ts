import { isFinalRunStatus, type Page, type RecordOutcomeView } from '@sluice/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, apiClient, eventually, type RunningServer, startServer } from '../support/server.js';

interface ErpStats {
  accepted: number;
  rejected: number;
  replays: number;
  writes: Record<string, number>;
  rejections: Record<string, string>;
}

interface WorkOrder {
  key: string;
  title: string;
  assetKey: string | null;
}

let server: RunningServer;

beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server?.stop());

/** Reads every work order from the maintenance sandbox, as an independent oracle. */
async function allWorkOrders(baseUrl: string): Promise<WorkOrder[]> {
  const out: WorkOrder[] = [];
  for (let page = 1; ; page++) {
    const body = await api<{ data: WorkOrder[]; links: { next: string | null } }>(
      `${baseUrl}/api/eam/work-orders?page=${page}&per_page=500`,
      { headers: { authorization: 'Bearer sandbox-maintenance-token' } },
    );
    out.push(...body.data);
    if (!body.links.next) return out;
  }
}

describe('the demo flow, end to end over HTTP', () => {
  it('moves every work order, fails exactly the ones the ERP rejects, and writes each good one once', async () => {
    const sluice = apiClient(server.url);
    const { items: flows } = await sluice.call('listFlows');
    const demo = flows.find((f) => f.name === 'Work orders → ERP');
    expect(demo, 'the demo flow is added on first start').toBeDefined();
    const { items: connections } = await sluice.call('listConnections');
    const maintenance = connections.find((c) => c.name === 'maintenance-sandbox')!.baseUrl;
    const erp = connections.find((c) => c.name === 'erp-sandbox')!.baseUrl;

    const { runId } = await sluice.call('startRun', { params: { id: demo!.id } });
    const run = await eventually(async () => {
      const r = await sluice.call('getRun', { params: { id: runId } });
      return isFinalRunStatus(r.status) ? r : undefined;
    });

    expect(run.status).toBe('succeeded');
    const { read, succeeded, failed, filtered } = run.counts;
    expect(read).toBe(1000);
    expect(read).toBe(succeeded + failed + filtered);
    expect(run.batches).toHaveLength(20);
    expect(run.batches.every((b) => b.size === 50)).toBe(true);
    // the configured 200 ms from the end of one batch to the start of the next: never less
    for (let i = 1; i < run.batches.length; i++) {
      const gap = Date.parse(run.batches[i]!.startedAt) - Date.parse(run.batches[i - 1]!.finishedAt!);
      expect(gap).toBeGreaterThanOrEqual(200);
    }

    const stored: RecordOutcomeView[] = [];
    let cursor: string | null = null;
    do {
      const page: Page<RecordOutcomeView> = await sluice.call('listRecords', {
        params: { id: runId },
        query: { status: 'failed', limit: 40, cursor: cursor ?? undefined },
      });
      stored.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    expect(stored).toHaveLength(failed);

    const stats = await api<ErpStats>(`${erp}/_sandbox/stats`);
    const workOrders = await allWorkOrders(maintenance);
    const incomplete = workOrders.filter((w) => !w.title || !w.assetKey).map((w) => w.key);
    expect(incomplete.length).toBeGreaterThan(0);
    expect(stored.map((r) => r.key).sort()).toEqual(Object.keys(stats.rejections).sort());
    expect(stored.map((r) => r.key).sort()).toEqual([...incomplete].sort());
    for (const record of stored) {
      expect(record.nodeId).toBe('erp-write');
      expect(record.error?.message).toBe(`HTTP 422: ${stats.rejections[record.key]}`);
      expect(record.payload).toMatchObject({ externalKey: record.key });
    }

    const good = workOrders.filter((w) => w.title && w.assetKey).map((w) => w.key);
    expect(succeeded).toBe(good.length);
    expect(Object.keys(stats.writes).sort()).toEqual([...good].sort());
    expect(Object.values(stats.writes).every((n) => n === 1)).toBe(true);
    expect(stats.replays).toBe(0);

    const key = stored[0]!.key;
    const history = await sluice.call('recordHistory', { params: { id: demo!.id, key } });
    expect(history.items).toEqual([expect.objectContaining({ runId, key, status: 'failed' })]);
  });
});
