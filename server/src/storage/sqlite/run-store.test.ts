import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Checkpoint, RecordOutcome, RunCommit } from '@sluice/engine';
import { emptyRunCounts } from '@sluice/shared';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError } from '../../errors.js';
import { LeaseLostError } from '../port.js';
import { SqliteConnections } from './connections.js';
import { SqliteFlows } from './flows.js';
import { SqliteLeases } from './leases.js';
import { databaseFile, openDatabase } from './open.js';
import { storedOutcomes } from './outcome-store.js';
import { SqliteRunStore } from './run-store.js';
import { SqliteRunQueries } from './runs.js';

/** The run store over a real SQLite file, with its writer thread. */

let dir: string;
let db: ReturnType<typeof openDatabase>;
let store: SqliteRunStore;
let runs: SqliteRunQueries;

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'sluice-store-'));
  db = openDatabase(databaseFile(dir));
  runs = new SqliteRunQueries(db);
  store = new SqliteRunStore(db, { payloadCap: 300 });
});

afterEach(async () => {
  await store.close();
  db.$client.close();
  rmSync(dir, { recursive: true, force: true });
});

const newRun = () => runs.create({ flowId: null, flowVersionId: null, flowName: 'store', trigger: 'cli' });

function checkpoint(lowWater: number): Checkpoint {
  return { version: 1, lowWater, nextBatch: 2, sourcesDone: [], nodeState: {}, breakers: {} };
}

function commitOf(outcomes: RecordOutcome[], extra: Partial<RunCommit> = {}): RunCommit {
  const succeeded = outcomes.filter((o) => o.status === 'succeeded').length;
  const failed = outcomes.filter((o) => o.status === 'failed').length;
  return {
    outcomes,
    collected: [],
    counts: { read: outcomes.length, succeeded, filtered: 0, failed, cancelled: 0 },
    nodeCounts: { out: { in: outcomes.length, out: succeeded, error: failed, filtered: 0 } },
    checkpoint: checkpoint(outcomes.length),
    ...extra,
  };
}

const ok = (seq: number, key = `k-${seq}`, output?: unknown): RecordOutcome => ({
  seq,
  key,
  status: 'succeeded',
  nodeId: 'out',
  batchNo: 1,
  attempts: 1,
  at: 1_700_000_000_000 + seq,
  ...(output === undefined ? {} : { output, outputNode: 'out' }),
});

interface Row {
  seq: number;
  key: string;
  status: number;
  node_id: string;
  attempts: number;
  error_id: number | null;
  payload: string | null;
  output: string | null;
  output_node: string | null;
  at: number;
}

/** Makes SQLite refuse the outcome row with this key, as a full disk would. */
const refuseKey = (key: string) =>
  db.$client.exec(
    `CREATE TRIGGER refuse BEFORE INSERT ON outcome_keys WHEN NEW.key = CAST('${key}' AS BLOB)
     BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END`,
  );

const rowsOf = (runId: string): Row[] => storedOutcomes(db.$client, Number(runId));

describe('SqliteRunStore', () => {
  it('stores every field of every outcome as sent, text in any script included', async () => {
    const runId = await newRun();
    const failed: RecordOutcome = {
      seq: 3,
      key: 'заказ-3 ✓',
      status: 'failed',
      nodeId: 'write',
      batchNo: 1,
      attempts: 4,
      error: { message: 'HTTP 422: title is required', code: 'http', httpStatus: 422 },
      payload: { title: '', note: '🚚 deliver' },
      at: 1_700_000_000_003,
    };
    const big: RecordOutcome = { ...failed, seq: 4, key: 'k-4', payload: { blob: 'x'.repeat(1000) } };
    store.commit(
      runId,
      commitOf([ok(0, 'k-0', { n: 1 }), ok(1, '注文-1', { title: 'Ünïcødé 🚀' }), ok(2, 'k-2', null), failed, big], {
        batch: { batchNo: 1, size: 5, startedAt: 10, finishedAt: 20, succeeded: 3, filtered: 0, failed: 2 },
      }),
    );
    await store.flush(runId);
    const rows = rowsOf(runId);
    expect(rows.map((r) => r.key)).toEqual(['k-0', '注文-1', 'k-2', 'заказ-3 ✓', 'k-4']);
    expect(rows.map((r) => r.output)).toEqual(['{"n":1}', '{"title":"Ünïcødé 🚀"}', 'null', null, null]);
    expect(rows.map((r) => r.output_node)).toEqual(['out', 'out', 'out', null, null]);
    expect(rows[3]).toMatchObject({ status: 2, node_id: 'write', attempts: 4, at: 1_700_000_000_003 });
    expect(JSON.parse(rows[3]?.payload ?? '')).toEqual({ title: '', note: '🚚 deliver' });
    expect(JSON.parse(rows[4]?.payload ?? '').$truncated).toMatchObject({ cap: 300 });
    const error = db.$client.prepare('SELECT * FROM error_messages WHERE id = ?').get(rows[3]?.error_id) as {
      message: string;
      http_status: number;
    };
    expect(error).toMatchObject({ message: 'HTTP 422: title is required', http_status: 422 });
    expect(rows[4]?.error_id).toBe(rows[3]?.error_id);
    const detail = await runs.get(runId);
    expect(detail.counts).toMatchObject({ read: 5, succeeded: 3, failed: 2 });
    expect(detail.batches).toHaveLength(1);
  });

  it('keeps the runs apart and the counts and checkpoint of the last commit, over many grouped commits', async () => {
    const a = await newRun();
    const b = await newRun();
    for (let batch = 0; batch < 60; batch++) {
      for (const runId of [a, b]) {
        const outcomes = Array.from({ length: 100 }, (_, i) =>
          ok(batch * 100 + i, `${runId}-${batch * 100 + i}`, { i }),
        );
        store.commit(runId, commitOf(outcomes, { checkpoint: checkpoint((batch + 1) * 100) }));
      }
    }
    await store.flush();
    for (const runId of [a, b]) {
      const rows = rowsOf(runId);
      expect(rows).toHaveLength(6000);
      expect(rows.every((r, i) => r.seq === i && r.key === `${runId}-${i}`)).toBe(true);
      const stored = db.$client.prepare('SELECT checkpoint FROM runs WHERE id = ?').pluck().get(Number(runId));
      expect(JSON.parse(stored as string).lowWater).toBe(6000);
    }
  });

  it('makes a commit wait while the writer is far behind, and loses nothing', async () => {
    const runId = await newRun();
    let waited = 0;
    for (let batch = 0; batch < 40; batch++) {
      const outcomes = Array.from({ length: 1000 }, (_, i) => ok(batch * 1000 + i, undefined, { i }));
      const r = store.commit(runId, commitOf(outcomes));
      if (r instanceof Promise) {
        waited++;
        await r;
      }
    }
    await store.flush(runId);
    expect(waited).toBeGreaterThan(0);
    expect(rowsOf(runId)).toHaveLength(40_000);
  });

  it('fails the next commit of a run whose rows could not be written, naming why; other runs go on', async () => {
    refuseKey('boom');
    const bad = await newRun();
    const good = await newRun();
    store.commit(bad, commitOf([ok(0), ok(1, 'boom')]));
    store.commit(good, commitOf([ok(0), ok(1)]));
    await store.flush();
    expect(rowsOf(bad)).toHaveLength(0); // the group landed whole or not at all
    expect(rowsOf(good)).toHaveLength(2);
    expect(() => store.commit(bad, commitOf([ok(2)]))).toThrow(/could not be stored: database or disk is full/);
    store.commit(good, commitOf([ok(2)]));
    await store.flush(good);
    expect(rowsOf(good)).toHaveLength(3);
  });

  it('never stores a later group of a run, nor its checkpoint, once an earlier group failed; the run ends failed', async () => {
    refuseKey('boom');
    const runId = await newRun();
    const first = Array.from({ length: 100 }, (_, i) => ok(i, i === 50 ? 'boom' : `k-${i}`));
    const second = Array.from({ length: 100 }, (_, i) => ok(100 + i));
    store.commit(runId, commitOf(first, { checkpoint: checkpoint(100) }));
    void store.flush(runId); // sent now: the next group follows before the first is acknowledged
    store.commit(runId, commitOf(second, { checkpoint: checkpoint(200) }));
    await store.flush(runId);
    expect(rowsOf(runId)).toHaveLength(0);
    expect(db.$client.prepare('SELECT checkpoint FROM runs WHERE id = ?').pluck().get(Number(runId))).toBeNull();
    const final = {
      status: 'succeeded' as const,
      at: 1_700_000_000_200,
      counts: { read: 200, succeeded: 200, filtered: 0, failed: 0, cancelled: 0 },
      nodeCounts: {},
    };
    await expect(store.setStatus(runId, final)).rejects.toThrow(/could not be stored: database or disk is full/);
    const detail = await runs.get(runId);
    expect(detail.status).toBe('failed');
    expect(detail.error).toMatch(/could not be stored: database or disk is full/);
    expect(detail.counts.succeeded).toBe(0);
  });

  it('writes its groups while the main connection writes too (the writer takes the lock when it begins)', async () => {
    const runId = await newRun();
    const other = await newRun();
    for (let i = 0; i < 300; i++) {
      const failed: RecordOutcome = {
        ...ok(i),
        status: 'failed',
        error: { message: `HTTP 500: failure number ${i}` }, // a new message: the writer reads error_messages first
        payload: { i },
      };
      store.commit(runId, commitOf([failed]));
      void store.flush(runId);
      for (let j = 0; j < 3; j++) store.setWaiting(other, { kind: 'delay', nodeId: 'wait', until: i * 10 + j });
    }
    await store.flush(runId);
    const rows = rowsOf(runId);
    expect(rows).toHaveLength(300);
    const messages = db.$client
      .prepare(
        'SELECT e.message FROM outcome_details o JOIN error_messages e ON e.id = o.error_id WHERE o.run_id = ? ORDER BY o.seq',
      )
      .pluck()
      .all(Number(runId));
    expect(messages).toEqual(rows.map((r) => `HTTP 500: failure number ${r.seq}`));
    expect(() => store.commit(runId, commitOf([ok(300)]))).not.toThrow();
  });

  it('refuses commits once closed, and records no status then', async () => {
    const runId = await newRun();
    store.commit(runId, commitOf([ok(0)]));
    await store.close();
    expect(rowsOf(runId)).toHaveLength(1);
    expect(() => store.commit(runId, commitOf([ok(1)]))).toThrow(/the run store is closed/);
    // a run still going when the process stops fails in memory, but stays stored as it was, to be resumed
    db.$client.prepare("UPDATE runs SET status = 'running' WHERE id = ?").run(Number(runId));
    await store.setStatus(runId, {
      status: 'failed',
      at: 1,
      error: "the run's records could not be stored: the run store is closed",
      counts: { read: 2, succeeded: 1, filtered: 0, failed: 0, cancelled: 1 },
      nodeCounts: {},
    });
    expect(await runs.get(runId)).toMatchObject({ status: 'running', counts: { read: 1, succeeded: 1 } });
  });

  it('writes a status change after everything committed before it', async () => {
    const runId = await newRun();
    store.commit(runId, commitOf([ok(0), ok(1)]));
    await store.setStatus(runId, {
      status: 'succeeded',
      at: 1_700_000_000_100,
      counts: { read: 2, succeeded: 2, filtered: 0, failed: 0, cancelled: 0 },
      nodeCounts: {},
    });
    expect(rowsOf(runId)).toHaveLength(2);
    expect((await runs.get(runId)).status).toBe('succeeded');
  });

  it('starts its writer ahead of the first rows when asked, and says when the thread cannot start', async () => {
    await store.ready();
    const runId = await newRun();
    store.commit(runId, commitOf([ok(0)]));
    await store.flush(runId);
    expect(rowsOf(runId)).toHaveLength(1);
    await store.ready(); // asked again once running: resolves at once
    // a store whose thread was started by its first rows, asked afterwards
    const late = new SqliteRunStore(db);
    late.commit(runId, commitOf([ok(1)]));
    await late.flush(runId);
    await late.ready();
    await late.close();
    expect(rowsOf(runId)).toHaveLength(2);
    const elsewhere = mkdtempSync(path.join(tmpdir(), 'sluice-store-gone-'));
    const other = openDatabase(databaseFile(elsewhere));
    const orphan = new SqliteRunStore(other);
    other.$client.close();
    rmSync(elsewhere, { recursive: true, force: true });
    await expect(orphan.ready()).rejects.toThrow(/directory does not exist/);
    orphan.commit('1', commitOf([ok(0)]));
    await orphan.flush('1');
    expect(() => orphan.commit('1', commitOf([ok(1)]))).toThrow(/could not be stored: .*directory does not exist/);
  });

  it('stores big payloads of failed records whole, sending them in groups bounded by bytes', async () => {
    const runId = await newRun();
    const cap = new SqliteRunStore(db, { payloadCap: 200_000 });
    const blob = 'é'.repeat(60_000); // 120,000 bytes of UTF-8 per payload
    const failed = (seq: number): RecordOutcome => ({
      seq,
      key: `big-${seq}`,
      status: 'failed',
      nodeId: 'write',
      batchNo: 1,
      attempts: 1,
      error: { message: 'HTTP 413: too large' },
      payload: { seq, blob },
      at: 1,
    });
    let waited = 0;
    for (let batch = 0; batch < 10; batch++) {
      const outcomes = Array.from({ length: 50 }, (_, i) => failed(batch * 50 + i));
      const r = cap.commit(runId, commitOf(outcomes));
      if (r instanceof Promise) {
        waited++;
        await r;
      }
    }
    // 500 rows are far from the row limit: only the bytes (60 MB) make commits wait for the writer
    expect(waited).toBeGreaterThan(0);
    await cap.flush(runId);
    await cap.close();
    const rows = rowsOf(runId);
    expect(rows).toHaveLength(500);
    const payloads = rows.map((r) => JSON.parse(r.payload ?? '{}') as { seq: number; blob: string });
    expect(payloads.every((p, i) => p.seq === i && p.blob === blob)).toBe(true);
  });

  it('refuses an in-memory database, which a second thread cannot open', () => {
    const memory = openDatabase(':memory:');
    expect(() => new SqliteRunStore(memory)).toThrow(/needs a database file/);
    memory.$client.close();
  });
});

describe('SqliteRunStore fencing', () => {
  it('refuses a status or waiting update once another process has claimed the run, and reports it lost once', async () => {
    const runId = await newRun();
    const mine = new SqliteLeases(db, Date.now, 15_000);
    const epoch = (await mine.claim(runId, ['queued'])) as number;
    const lost: string[] = [];
    store.onLeaseLost = (id) => lost.push(id);
    store.fence(runId, epoch);
    await store.setStatus(runId, { status: 'running', at: 1 });
    expect((await runs.get(runId)).status).toBe('running');

    // the lease expired and another process claimed the run: its epoch moved on
    db.$client
      .prepare('UPDATE runs SET lease_owner = ?, lease_epoch = lease_epoch + 1 WHERE id = ?')
      .run('elsewhere/1/x', Number(runId));
    const until = Date.now() + 60_000;
    await expect(store.setWaiting(runId, { nodeId: 'wait', kind: 'delay', until })).rejects.toThrow(LeaseLostError);
    await expect(
      store.setStatus(runId, { status: 'succeeded', at: 2, counts: emptyRunCounts(), nodeCounts: {} }),
    ).rejects.toThrow(LeaseLostError);
    expect(lost).toEqual([runId]);
    const stored = await runs.get(runId);
    expect(stored).toMatchObject({ status: 'running', waiting: null, finishedAt: null });

    // the new holder's epoch is accepted
    store.fence(runId, epoch + 1);
    await store.setStatus(runId, { status: 'succeeded', at: 3, counts: emptyRunCounts(), nodeCounts: {} });
    expect((await runs.get(runId)).status).toBe('succeeded');
  });

  it('writes unfenced for a run it was given no epoch for', async () => {
    const runId = await newRun();
    db.$client.prepare('UPDATE runs SET lease_epoch = 7 WHERE id = ?').run(Number(runId));
    await store.setStatus(runId, { status: 'running', at: 1 });
    expect((await runs.get(runId)).status).toBe('running');
  });
});

describe('clashes in the stored rows', () => {
  it('refuses a second run for one schedule slot with a ConflictError, not a database error', async () => {
    const flows = new SqliteFlows(db);
    await flows.create({ id: 'f', name: 'F', description: null, document: '{}', at: 1 });
    const slot = {
      flowId: 'f',
      flowVersionId: null,
      flowName: 'F',
      trigger: 'schedule' as const,
      scheduledFor: 60_000,
    };
    await runs.create(slot);
    const clash = await runs.create(slot).catch((err: unknown) => err);
    expect(clash).toBeInstanceOf(ConflictError);
    expect(clash).toMatchObject({ code: 'slot_taken' });
  });

  it('refuses a connection name that is taken, naming the field', async () => {
    const connections = new SqliteConnections(db);
    const row = {
      name: 'erp',
      baseUrl: 'http://erp.test',
      auth: 'none' as const,
      username: null,
      headerName: null,
      secret: null,
      checkPath: null,
      breakerThreshold: null,
      breakerCooldownMs: null,
      limitMaxConcurrent: null,
      limitMaxPerSecond: null,
      limitAdaptive: false,
    };
    await connections.insert(row, 1);
    const clash = await connections.insert(row, 2).catch((err: unknown) => err);
    expect(clash).toBeInstanceOf(ConflictError);
    expect(clash).toMatchObject({
      code: 'exists',
      path: 'name',
      message: 'name: a connection named "erp" already exists',
    });
  });
});
