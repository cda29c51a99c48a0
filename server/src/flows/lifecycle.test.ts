import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ApiClient, ApiClientError, createApiClient } from '@sluice/shared';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../http/app.js';
import { openTestSluice, TEST_TOKEN, type TestSluice } from '../http/test-support.js';
import { openDatabase } from '../storage/sqlite/open.js';

let t: TestSluice;
let api: ApiClient;

/** A flow whose `check` map fails every record whose `n` is odd, unless the record says `fixed`. */
const doc = (name: string, records = 6) => ({
  format: 1,
  name,
  nodes: [
    { id: 'start', type: 'manual' },
    {
      id: 'src',
      type: 'inline-records',
      params: { records: Array.from({ length: records }, (_, n) => ({ k: `r${n}`, n })), keyField: 'k' },
    },
    {
      id: 'check',
      type: 'map',
      params: { fields: [{ name: 'v', expression: "fixed or n % 2 = 0 ? n : $error('odd')" }] },
    },
    { id: 'out', type: 'collect' },
  ],
  edges: [
    { source: 'start', target: 'src' },
    { source: 'src', target: 'check' },
    { source: 'check', target: 'out' },
  ],
});

async function runToEnd(flowId: string, trigger?: 'manual' | 'api') {
  const { runId } = await api.call('startRun', { params: { id: flowId }, ...(trigger ? { body: { trigger } } : {}) });
  await t.parts.runner.wait(runId);
  return api.call('getRun', { params: { id: runId } });
}

beforeAll(async () => {
  t = await openTestSluice();
  const app = createApp(t.parts);
  api = createApiClient({
    baseUrl: 'http://sluice.test',
    token: TEST_TOKEN,
    validate: true,
    fetch: async (url, init) => app.request(url, init),
  });
});
afterAll(() => t.close());

describe('flow lifecycle', () => {
  it('numbers runs per flow, and stores who started them', async () => {
    const a = await api.call('createFlow', { body: doc('Numbers A') });
    const b = await api.call('createFlow', { body: doc('Numbers B') });
    expect((await runToEnd(a.id, 'manual')).runNumber).toBe(1);
    expect((await runToEnd(b.id)).runNumber).toBe(1);
    const second = await runToEnd(a.id);
    expect(second).toMatchObject({ runNumber: 2, trigger: 'api' });
    const listed = await api.call('listRuns', { query: { flowId: a.id } });
    expect(listed.items.map((r) => [r.runNumber, r.trigger])).toEqual([
      [2, 'api'],
      [1, 'manual'],
    ]);
  });

  it('duplicates a flow as a new flow at version 1', async () => {
    const a = await api.call('createFlow', { body: doc('Original') });
    await api.call('saveFlow', { params: { id: a.id }, body: doc('Original', 3) });
    const copy = await api.call('duplicateFlow', { params: { id: a.id } });
    expect(copy).toMatchObject({ name: 'Original (copy)', version: 1, latestVersion: 1 });
    expect(copy.id).not.toBe(a.id);
    expect(copy.document.nodes).toEqual((await api.call('getFlow', { params: { id: a.id } })).document.nodes);
  });

  it('deletes a flow without runs; archives one with runs, hides it, keeps its history, restores it', async () => {
    const unused = await api.call('createFlow', { body: doc('Unused') });
    expect(await api.call('deleteFlow', { params: { id: unused.id } })).toEqual({ archived: false });
    await expect(api.call('getFlow', { params: { id: unused.id } })).rejects.toMatchObject({ status: 404 });

    const used = await api.call('createFlow', { body: doc('Used') });
    const run = await runToEnd(used.id);
    expect(await api.call('deleteFlow', { params: { id: used.id } })).toEqual({ archived: true });
    expect((await api.call('listFlows')).items.map((f) => f.id)).not.toContain(used.id);
    expect((await api.call('listFlows', { query: { archived: 'true' } })).items.map((f) => f.id)).toContain(used.id);
    expect((await api.call('getRun', { params: { id: run.id } })).counts.read).toBe(6);
    // an archived flow does not run, and its schedules and webhooks are off
    const refused = await api.call('startRun', { params: { id: used.id } }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ApiClientError);
    expect(refused).toMatchObject({ status: 409, code: 'archived' });

    const restored = await api.call('restoreFlow', { params: { id: used.id } });
    expect(restored).toMatchObject({ archivedAt: null, enabled: false });
    expect((await api.call('listFlows')).items.map((f) => f.id)).toContain(used.id);
    await expect(api.call('restoreFlow', { params: { id: used.id } })).rejects.toMatchObject({ status: 409 });
    await expect(api.call('deleteFlow', { params: { id: 'flow_nope' } })).rejects.toMatchObject({ status: 404 });
  });
});

describe('retrying a selection of failed records, with edited payloads', () => {
  it('feeds only the selected records, with the replacement payload, into the node where they failed', async () => {
    const flow = await api.call('createFlow', { body: doc('Retry selection') });
    const run = await runToEnd(flow.id);
    expect(run.counts).toMatchObject({ read: 6, failed: 3 });
    const failed = (await api.call('listRecords', { params: { id: run.id }, query: { status: 'failed' } })).items;
    expect(failed.map((r) => r.key)).toEqual(['r1', 'r3', 'r5']);

    const [r1, r3] = failed as [(typeof failed)[0], (typeof failed)[0]];
    const retry = await api.call('retryRun', {
      params: { id: run.id },
      body: { records: [{ seq: r1.seq, payload: { k: 'r1', n: 1, fixed: true } }, { seq: r3.seq }] },
    });
    await t.parts.runner.wait(retry.runId);
    const retried = await api.call('getRun', { params: { id: retry.runId } });
    expect(retried).toMatchObject({ trigger: 'retry', retryOf: run.id, counts: { read: 2, succeeded: 1, failed: 1 } });
    const history = await api.call('recordHistory', { params: { id: flow.id, key: 'r1' } });
    expect(history.items[0]).toMatchObject({ runId: retry.runId, status: 'succeeded' });
    // the selection is stored with the retry run, so a resumed retry reads it again, from where it was
    expect(await t.parts.runs.selectionSize(retry.runId)).toBe(2);
    const replay = async (after: number) =>
      (await t.parts.runs.failedForReplay(run.id, after, 10, retry.runId)).map((r) => [r.key, r.nodeId, r.payload]);
    expect(await replay(-1)).toEqual([
      ['r1', 'check', { k: 'r1', n: 1, fixed: true }],
      ['r3', 'check', { k: 'r3', n: 3 }],
    ]);
    expect(await replay(r1.seq)).toEqual([['r3', 'check', { k: 'r3', n: 3 }]]);
    // a retry without a selection feeds every failed record
    expect((await t.parts.runs.failedForReplay(run.id, -1, 10, run.id)).map((r) => r.key)).toEqual(['r1', 'r3', 'r5']);
  });

  it('refuses a selection naming a record that did not fail, or one twice, naming the field', async () => {
    const flow = await api.call('createFlow', { body: doc('Retry refusals') });
    const run = await runToEnd(flow.id);
    const ok = (await api.call('listRecords', { params: { id: run.id }, query: { status: 'succeeded' } })).items[0];
    const bad = await api
      .call('retryRun', { params: { id: run.id }, body: { records: [{ seq: 1 }, { seq: ok?.seq ?? 0 }] } })
      .catch((e: unknown) => e);
    expect(bad).toMatchObject({ status: 400, path: 'records[1].seq' });
    const twice = await api
      .call('retryRun', { params: { id: run.id }, body: { records: [{ seq: 1 }, { seq: 1 }] } })
      .catch((e: unknown) => e);
    expect(twice).toMatchObject({ status: 400, path: 'records[1].seq' });
  });
});

describe('migration', () => {
  it('an existing database keeps its runs and gets run numbers per flow, in creation order', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sluice-migrate-'));
    try {
      // the migrations as they were before run numbers
      const all = fileURLToPath(new URL('../../drizzle', import.meta.url));
      const old = path.join(dir, 'drizzle');
      cpSync(all, old, { recursive: true });
      const journalFile = path.join(old, 'meta', '_journal.json');
      const journal = JSON.parse(readFileSync(journalFile, 'utf8')) as { entries: { tag: string }[] };
      const upTo = journal.entries.findIndex((e) => e.tag.startsWith('0006_'));
      expect(upTo).toBeGreaterThan(0);
      writeFileSync(journalFile, JSON.stringify({ ...journal, entries: journal.entries.slice(0, upTo) }));
      const file = path.join(dir, 'old.sqlite');
      const client = new Database(file);
      migrate(drizzle(client), { migrationsFolder: old });
      client.exec(`INSERT INTO flows (id, name, latest_version, created_at, updated_at) VALUES
        ('fa', 'A', 1, 1, 1), ('fb', 'B', 1, 1, 1)`);
      const insert = client.prepare(
        `INSERT INTO runs (flow_id, flow_name, status, trigger, read, created_at) VALUES (?, 'x', 'succeeded', 'api', ?, ?)`,
      );
      for (const [i, flow] of ['fa', 'fb', 'fa', null, 'fa', 'fb'].entries()) insert.run(flow, i * 10, i);
      client.close();

      const db = openDatabase(file);
      const rows = db.$client.prepare('SELECT flow_id, read, run_number FROM runs ORDER BY id').all();
      expect(rows).toEqual([
        { flow_id: 'fa', read: 0, run_number: 1 },
        { flow_id: 'fb', read: 10, run_number: 1 },
        { flow_id: 'fa', read: 20, run_number: 2 },
        { flow_id: null, read: 30, run_number: null },
        { flow_id: 'fa', read: 40, run_number: 3 },
        { flow_id: 'fb', read: 50, run_number: 2 },
      ]);
      expect(db.$client.prepare('SELECT archived_at FROM flows').pluck().all()).toEqual([null, null]);
      db.$client.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
