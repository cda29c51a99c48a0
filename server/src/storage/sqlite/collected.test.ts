import type { RecordOutcomeView } from '@sluice/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { openTestSluice, type TestSluice } from '../../http/test-support.js';
import { readStored, storedJson, storedOutput } from '../stored-json.js';
import { sqliteClient } from './index.js';
import { storedOutcomes } from './outcome-store.js';

/**
 * What collect nodes keep, through the real engine, run store and API: outputs are capped like
 * payloads, and a failed record's collected output does not store its payload and error twice.
 */
let t: TestSluice | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

interface Collected {
  nodeId: string;
  seq: number;
  key: string;
  data: unknown;
  dataTruncated?: { bytes: number; cap: number };
  payloadTruncated?: { bytes: number; cap: number };
}

/** Records through a map that fails non-numbers; the failures go to an error branch and two collect nodes. */
function flow(records: Record<string, unknown>[]) {
  return {
    format: 1,
    name: 'Collect',
    settings: { onError: 'continue' },
    nodes: [
      { id: 'start', type: 'manual' },
      { id: 'src', type: 'inline-records', params: { records, keyField: 'key' } },
      {
        id: 'shape',
        type: 'map',
        params: { keep: 'all', fields: [{ name: 'amount', expression: '$number(amount)' }] },
      },
      { id: 'kept', type: 'collect' },
      { id: 'rejected', type: 'error-branch' },
      { id: 'rejects', type: 'collect' },
      { id: 'rejects-again', type: 'collect' },
    ],
    edges: [
      { source: 'start', target: 'src' },
      { source: 'src', target: 'shape' },
      { source: 'shape', sourcePort: 'out', target: 'kept' },
      { source: 'shape', sourcePort: 'error', target: 'rejected' },
      { source: 'rejected', target: 'rejects' },
      { source: 'rejected', target: 'rejects-again' },
    ],
  };
}

async function runFlow(records: Record<string, unknown>[]): Promise<string> {
  const app = (t as TestSluice).app;
  const created = (await (
    await app.request('/api/flows', { method: 'POST', body: JSON.stringify(flow(records)) })
  ).json()) as {
    id: string;
  };
  const started = await app.request(`/api/flows/${created.id}/runs`, { method: 'POST', body: '{}' });
  expect(started.status).toBe(202);
  const { runId } = (await started.json()) as { runId: string };
  const result = await (t as TestSluice).parts.runner.wait(runId);
  expect(result.status).toBe('succeeded');
  return runId;
}

async function get<T>(path: string): Promise<T> {
  const res = await (t as TestSluice).app.request(path);
  expect(res.status).toBe(200);
  return (await res.json()) as T;
}

describe('collected records', () => {
  it("a failed record's collected output stores its payload and error once, and reads as the error branch passed it on", async () => {
    t = await openTestSluice();
    const note = 'a note long enough to notice twice '.repeat(20);
    const runId = await runFlow([
      { key: 'a', amount: '12', note },
      { key: 'b', amount: 'twelve', note },
    ]);

    // stored: the outcome row holds payload and error; the output (both collect nodes) holds neither again
    const client = sqliteClient(t.parts.storage).$client;
    const row = storedOutcomes(client, Number(runId)).find((o) => o.key === 'b') as {
      payload: string;
      output: string;
      output_node: string;
    };
    expect(row.output_node).toBe('rejects');
    expect(JSON.parse(row.payload)).toEqual({ key: 'b', amount: 'twelve', note });
    const stored = JSON.parse(row.output) as { $outcome: Record<string, unknown> };
    expect(stored.$outcome).toMatchObject({ key: 'b', payload: null, error: null, node: 'shape' });
    const second = client
      .prepare('SELECT data FROM collected_records WHERE run_id = ? AND node_id = ?')
      .pluck()
      .get(Number(runId), 'rejects-again') as string;
    expect(second).toBe(row.output);
    // the note is in the row's payload and in the output's `record` (the record as read), not a third time
    const stores = (text: string) => text.split(note).length - 1;
    expect(stores(row.payload) + stores(row.output) + stores(second)).toBe(3);

    // read: as the error branch passed it on, the same from both collect nodes, matching the record's outcome
    const records = await get<{ items: RecordOutcomeView[] }>(`/api/runs/${runId}/records?status=failed`);
    const failed = records.items[0] as RecordOutcomeView;
    const collected = await get<{ items: Collected[] }>(`/api/runs/${runId}/collected`);
    const forB = collected.items.filter((c) => c.key === 'b');
    expect(forB.map((c) => c.nodeId)).toEqual(['rejects', 'rejects-again']);
    for (const c of forB) {
      expect(c.data).toEqual({
        key: 'b',
        record: { key: 'b', amount: 'twelve', note },
        payload: failed.payload,
        error: failed.error,
        node: 'shape',
        attempts: failed.attempts,
      });
      // in the order the error branch gives its fields
      expect(Object.keys(c.data as object)).toEqual(['key', 'record', 'payload', 'error', 'node', 'attempts']);
      expect(c.dataTruncated).toBeUndefined();
    }
    expect((failed.error as { message: string }).message).toMatch(/number/i);
    expect(collected.items.find((c) => c.key === 'a')).toEqual({
      nodeId: 'kept',
      seq: 0,
      key: 'a',
      data: { key: 'a', amount: 12, note },
    });
  });

  it('cuts a collected output to SLUICE_PAYLOAD_CAP and says how big it was', async () => {
    t = await openTestSluice({ payloadCap: 500 });
    const note = 'ü'.repeat(2000);
    const runId = await runFlow([
      { key: 'a', amount: '12', note },
      { key: 'b', amount: 'twelve', note },
    ]);
    const outputs = [
      ...storedOutcomes(sqliteClient(t.parts.storage).$client, Number(runId)).flatMap((o) =>
        o.output === null ? [] : [o.output],
      ),
      ...(sqliteClient(t.parts.storage)
        .$client.prepare('SELECT data FROM collected_records WHERE run_id = ?')
        .pluck()
        .all(Number(runId)) as string[]),
    ];
    expect(outputs).toHaveLength(3);
    // the cut preview, its size and the wrapper: never the 2,000 characters of the note
    for (const text of outputs) expect(text.length).toBeLessThan(700);

    const collected = await get<{ items: Collected[] }>(`/api/runs/${runId}/collected`);
    const kept = collected.items.find((c) => c.key === 'a') as Collected;
    const full = JSON.stringify({ key: 'a', amount: 12, note });
    expect(kept.dataTruncated).toEqual({ bytes: Buffer.byteLength(full), cap: 500 });
    expect(kept.data).toBe(full.slice(0, 500));
    // the failed record's output is over the cap even without its payload: cut too, whole
    const rejected = collected.items.filter((c) => c.key === 'b');
    expect(rejected).toHaveLength(2);
    for (const c of rejected) {
      expect(c.dataTruncated?.cap).toBe(500);
      expect(c.dataTruncated?.bytes).toBeGreaterThan(4000);
      expect(String(c.data)).toMatch(/^\{"key":"b","record":/);
    }
  });
});

describe('stored JSON', () => {
  it('keeps values that look like its own wrappers as they are', () => {
    for (const value of [
      { $truncated: { bytes: 1, cap: 1, preview: '' } },
      { $outcome: { payload: null } },
      { $value: 1 },
      { $other: 1 },
      { a: 1, $truncated: 2 },
      'text',
      null,
      [1, 2],
    ]) {
      const json = storedJson(value, 1000);
      expect(readStored(json)).toEqual({ value });
      expect(storedOutput(value, 1000)).toBe(json);
    }
  });

  it('cuts JSON longer than the cap, counting its bytes in UTF-8', () => {
    const value = { text: '€'.repeat(100) };
    expect(readStored(storedJson(value, 50))).toEqual({
      value: JSON.stringify(value).slice(0, 50),
      truncated: { bytes: Buffer.byteLength(JSON.stringify(value)), cap: 50 },
    });
  });

  it("leaves an output alone unless it carries the failed outcome's own payload and error", () => {
    const payload = { a: 1 };
    const error = { message: 'no' };
    const outcome = {
      seq: 0,
      key: 'k',
      status: 'failed' as const,
      nodeId: 'n',
      batchNo: 0,
      attempts: 1,
      at: 0,
      payload,
      error,
    };
    expect(JSON.parse(storedOutput({ payload, error, n: 1 }, 1000, outcome))).toEqual({
      $outcome: { payload: null, error: null, n: 1 },
    });
    // equal but not the same objects (a node rebuilt them): stored as they are
    expect(JSON.parse(storedOutput({ payload: { a: 1 }, error, n: 1 }, 1000, outcome))).toEqual({
      payload: { a: 1 },
      error,
      n: 1,
    });
    // an error with more than the row keeps of it
    const rich = { ...outcome, error: { message: 'no', details: [1] } };
    expect(JSON.parse(storedOutput({ payload, error: rich.error }, 1000, rich))).toEqual({
      payload,
      error: rich.error,
    });
  });
});
