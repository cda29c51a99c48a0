import type { RecordOutcomeView, RunDetail } from '@sluice/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestSluice, type TestSluice } from '../../http/test-support.js';
import { sqliteClient } from './index.js';
import { storedOutcomes } from './outcome-store.js';
import { prune } from './retention.js';

let t: TestSluice;
const DAY = 86_400_000;

beforeAll(async () => {
  t = await openTestSluice({ payloadCap: 300 });
});
afterAll(() => t.close());

const flowDoc = (name: string, note: string) => ({
  format: 1,
  name,
  nodes: [
    { id: 'start', type: 'manual' },
    {
      id: 'src',
      type: 'inline-records',
      params: {
        records: [
          { k: 'a', n: 1, note },
          { k: 'b', n: 'x', note },
        ],
        keyField: 'k',
      },
    },
    { id: 'twice', type: 'map', params: { fields: [{ name: 'twice', expression: '$number(n) * 2' }] } },
    { id: 'out', type: 'collect' },
  ],
  edges: [
    { source: 'start', target: 'src' },
    { source: 'src', target: 'twice' },
    { source: 'twice', target: 'out' },
  ],
});

async function runOf(flowId: string): Promise<string> {
  const res = await t.app.request(`/api/flows/${flowId}/runs`, { method: 'POST' });
  const { runId } = (await res.json()) as { runId: string };
  await t.parts.runner.wait(runId);
  return runId;
}

/** Outcomes stored for the run. */
const outcomeRows = (runId: string) => storedOutcomes(sqliteClient(t.parts.storage).$client, Number(runId)).length;

/** Rows left of the run in each table of its outcomes (none once pruned: each is a range delete by run). */
const tableRows = (runId: string) =>
  ['outcome_packs', 'outcome_outputs', 'outcome_keys', 'outcome_details'].map(
    (table) =>
      sqliteClient(t.parts.storage)
        .$client.prepare(`SELECT COUNT(*) FROM ${table} WHERE run_id = ?`)
        .pluck()
        .get(Number(runId)) as number,
  );

describe('stored payload cap', () => {
  it('cuts a failed record’s payload to the cap and says how big it was', async () => {
    const { id } = (await (
      await t.app.request('/api/flows', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(flowDoc('Big payloads', 'x'.repeat(5000))),
      })
    ).json()) as { id: string };
    const runId = await runOf(id);
    const failed = (await (await t.app.request(`/api/runs/${runId}/records?status=failed`)).json()) as {
      items: RecordOutcomeView[];
    };
    expect(failed.items).toHaveLength(1);
    const record = failed.items[0] as RecordOutcomeView;
    expect(record.payloadTruncated).toEqual({ bytes: expect.any(Number), cap: 300 });
    expect(record.payloadTruncated?.bytes).toBeGreaterThan(5000);
    expect(typeof record.payload).toBe('string');
    expect((record.payload as string).length).toBe(300);
    expect((record.payload as string).startsWith('{"k":"b"')).toBe(true);
    const settings = (await (await t.app.request('/api/settings')).json()) as { payloadCap: number };
    expect(settings.payloadCap).toBe(300);
  });
});

describe('retention', () => {
  it('removes the record outcomes of runs past both limits, keeps their summaries, and the API says so', async () => {
    const { id } = (await (
      await t.app.request('/api/flows', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(flowDoc('Kept for a while', 'small')),
      })
    ).json()) as { id: string };
    const runs = [];
    for (let i = 0; i < 5; i++) runs.push(await runOf(id));
    // the first three look 40 days old
    const old = Date.now() - 40 * DAY;
    for (const r of runs.slice(0, 3))
      sqliteClient(t.parts.storage).$client.prepare('UPDATE runs SET created_at = ? WHERE id = ?').run(old, Number(r));
    for (const r of runs) expect(outcomeRows(r)).toBe(2);

    // keep 30 days or the newest 4 runs: only the oldest run is past both
    expect(prune(sqliteClient(t.parts.storage), { days: 30, runsPerFlow: 4 })).toEqual({ runs: 1, outcomes: 2 });
    expect(runs.map(outcomeRows)).toEqual([0, 2, 2, 2, 2]);
    expect(tableRows(runs[0] as string)).toEqual([0, 0, 0, 0]);
    const [packs, , keys] = tableRows(runs[1] as string);
    expect(packs).toBeGreaterThan(0);
    expect(keys).toBeGreaterThan(0);
    const pruned = (await (await t.app.request(`/api/runs/${runs[0]}`)).json()) as RunDetail;
    expect(pruned.prunedAt).not.toBeNull();
    expect(pruned.counts).toMatchObject({ read: 2, succeeded: 1, failed: 1 });

    // a second pass finds nothing more; a tighter policy through the API takes the other old ones
    expect(prune(sqliteClient(t.parts.storage), { days: 30, runsPerFlow: 4 })).toEqual({ runs: 0, outcomes: 0 });
    expect(prune(sqliteClient(t.parts.storage), { days: 30, runsPerFlow: 2 })).toEqual({ runs: 2, outcomes: 4 });
    expect(runs.map(outcomeRows)).toEqual([0, 0, 0, 2, 2]);
    const history = (await (await t.app.request(`/api/flows/${id}/records/a`)).json()) as {
      items: RecordOutcomeView[];
    };
    expect(history.items.map((h) => h.runId)).toEqual([runs[4], runs[3]]);
  });

  it('keeps the database bounded: the file stops growing once old runs are pruned', async () => {
    const { id } = (await (
      await t.app.request('/api/flows', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          format: 1,
          name: 'Many records',
          nodes: [
            { id: 'start', type: 'manual' },
            { id: 'src', type: 'generate', params: { count: 5000 } },
            { id: 'out', type: 'collect' },
          ],
          edges: [
            { source: 'start', target: 'src' },
            { source: 'src', target: 'out' },
          ],
        }),
      })
    ).json()) as { id: string };
    const pages = () => {
      sqliteClient(t.parts.storage).$client.pragma('wal_checkpoint(TRUNCATE)');
      return sqliteClient(t.parts.storage).$client.pragma('page_count', { simple: true }) as number;
    };
    const sizes: number[] = [];
    for (let i = 0; i < 8; i++) {
      await runOf(id);
      prune(sqliteClient(t.parts.storage), { days: 0, runsPerFlow: 2 }, Date.now() + 1000);
      sizes.push(pages());
    }
    // after the first few runs, pruning frees as many pages as each new run takes
    expect(sizes[7]).toBeLessThanOrEqual((sizes[3] as number) * 1.05);
  });
});
