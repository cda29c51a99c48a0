import { connect, createServer, type Socket } from 'node:net';
import type { Checkpoint, RecordOutcome, RunCommit } from '@sluice/engine';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LeaseLostError } from '../port.js';
import { createPool, type PgDb, pgDb } from './db.js';
import { PgLeases } from './leases.js';
import { PgPacks } from './packs.js';
import { PgRunStore } from './run-store.js';
import { useTestDatabase } from './test-database.js';

/** The run store over a real PostgreSQL database (the cases of the SQLite run store's tests, and fencing). */

const database = useTestDatabase();
let db: PgDb;
let store: PgRunStore;

beforeEach(async () => {
  db = database.db;
  await db.$client.query('DROP TRIGGER IF EXISTS refuse ON outcome_keys');
  store = new PgRunStore(db, { payloadCap: 300 });
  await store.ready();
});

afterEach(async () => {
  await store.close();
});

const sql = async <T = Record<string, unknown>>(text: string, args: unknown[] = []) =>
  (await db.$client.query(text, args)).rows as T[];

async function newRun(): Promise<string> {
  const [row] = await sql<{ id: string }>(
    `INSERT INTO runs (flow_name, status, trigger, created_at) VALUES ('store', 'running', 'cli', 0) RETURNING id`,
  );
  return String(row?.id);
}

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

/** Makes PostgreSQL refuse the key row with this key, as a full disk would. */
const refuseKey = async (key: string) => {
  await db.$client.query(`CREATE OR REPLACE FUNCTION refuse_key() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.key = convert_to('${key}', 'UTF8') THEN RAISE EXCEPTION 'could not extend file: No space left on device'; END IF;
      RETURN NEW;
    END $$`);
  await db.$client.query(
    'CREATE TRIGGER refuse BEFORE INSERT ON outcome_keys FOR EACH ROW EXECUTE FUNCTION refuse_key()',
  );
};

/** Every stored outcome of a run, in position order, with its detail row's error and payload. */
async function rowsOf(runId: string): Promise<Row[]> {
  const details = new Map(
    (
      await sql<{ seq: number; error_id: string | null; payload: string | null }>(
        'SELECT seq::float8 AS seq, error_id, payload FROM outcome_details WHERE run_id = $1',
        [Number(runId)],
      )
    ).map((d) => [d.seq, d]),
  );
  return (await new PgPacks(db.$client).all(Number(runId), true)).map((o) => {
    const d = details.get(o.seq);
    return {
      seq: o.seq,
      key: o.key,
      status: o.status,
      node_id: o.node,
      attempts: o.attempts,
      error_id: d?.error_id == null ? null : Number(d.error_id),
      payload: d?.payload ?? null,
      output: o.output,
      output_node: o.outputNode,
      at: o.at,
    };
  });
}

async function runRow(runId: string) {
  const [row] = await sql<{
    status: string;
    error: string | null;
    read: string;
    succeeded: string;
    failed: string;
    checkpoint: Checkpoint | null;
    waiting: unknown;
  }>('SELECT status, error, read, succeeded, failed, checkpoint, waiting FROM runs WHERE id = $1', [Number(runId)]);
  return row as NonNullable<typeof row>;
}

describe('PgRunStore', () => {
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
    const rows = await rowsOf(runId);
    expect(rows.map((r) => r.key)).toEqual(['k-0', '注文-1', 'k-2', 'заказ-3 ✓', 'k-4']);
    expect(rows.map((r) => r.output)).toEqual(['{"n":1}', '{"title":"Ünïcødé 🚀"}', 'null', null, null]);
    expect(rows.map((r) => r.output_node)).toEqual(['out', 'out', 'out', null, null]);
    expect(rows[3]).toMatchObject({ status: 2, node_id: 'write', attempts: 4, at: 1_700_000_000_003 });
    expect(JSON.parse(rows[3]?.payload ?? '')).toEqual({ title: '', note: '🚚 deliver' });
    expect(JSON.parse(rows[4]?.payload ?? '').$truncated).toMatchObject({ cap: 300 });
    const [error] = await sql('SELECT message, http_status FROM error_messages WHERE id = $1', [rows[3]?.error_id]);
    expect(error).toMatchObject({ message: 'HTTP 422: title is required', http_status: 422 });
    expect(rows[4]?.error_id).toBe(rows[3]?.error_id);
    const run = await runRow(runId);
    expect(run).toMatchObject({ read: '5', succeeded: '3', failed: '2' });
    expect(
      await sql('SELECT batch_no, size, finished_at::int AS finished_at FROM batches WHERE run_id = $1', [
        Number(runId),
      ]),
    ).toEqual([{ batch_no: 1, size: 5, finished_at: 20 }]);
  });

  it('keeps the runs apart and the counts and checkpoint of the last commit, over many grouped commits', async () => {
    const a = await newRun();
    const b = await newRun();
    for (let batch = 0; batch < 60; batch++) {
      for (const runId of [a, b]) {
        const outcomes = Array.from({ length: 100 }, (_, i) =>
          ok(batch * 100 + i, `${runId}-${batch * 100 + i}`, { i }),
        );
        await store.commit(runId, commitOf(outcomes, { checkpoint: checkpoint((batch + 1) * 100) }));
      }
    }
    await store.flush();
    for (const runId of [a, b]) {
      const rows = await rowsOf(runId);
      expect(rows).toHaveLength(6000);
      expect(rows.every((r, i) => r.seq === i && r.key === `${runId}-${i}`)).toBe(true);
      expect((await runRow(runId)).checkpoint?.lowWater).toBe(6000);
    }
    // groups of up to 2,000 rows: a bucket cut by a group's end has two parts
    const [parts] = await sql<{ n: number }>(
      'SELECT count(*)::int AS n FROM outcome_packs WHERE run_id = $1 AND part > 0',
      [Number(a)],
    );
    expect(parts?.n).toBeGreaterThan(0);
  });

  it('makes a commit wait while the writes are far behind, and loses nothing', async () => {
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
    expect(await rowsOf(runId)).toHaveLength(40_000);
  });

  it('fails the next commit of a run whose rows could not be written, naming why; other runs go on', async () => {
    await refuseKey('boom');
    const bad = await newRun();
    const good = await newRun();
    store.commit(bad, commitOf([ok(0), ok(1, 'boom')]));
    store.commit(good, commitOf([ok(0), ok(1)]));
    await store.flush();
    expect(await rowsOf(bad)).toHaveLength(0); // the group landed whole or not at all
    expect((await runRow(bad)).checkpoint).toBeNull();
    expect(await rowsOf(good)).toHaveLength(2);
    expect(() => store.commit(bad, commitOf([ok(2)]))).toThrow(/could not be stored: could not extend file/);
    store.commit(good, commitOf([ok(2)]));
    await store.flush(good);
    expect(await rowsOf(good)).toHaveLength(3);
  });

  it('never stores a later group of a run, nor its checkpoint, once an earlier group failed; the run ends failed', async () => {
    await refuseKey('boom');
    const runId = await newRun();
    const first = Array.from({ length: 100 }, (_, i) => ok(i, i === 50 ? 'boom' : `k-${i}`));
    const second = Array.from({ length: 100 }, (_, i) => ok(100 + i));
    store.commit(runId, commitOf(first, { checkpoint: checkpoint(100) }));
    void store.flush(runId); // sent now: the next group follows before the first is written
    store.commit(runId, commitOf(second, { checkpoint: checkpoint(200) }));
    await store.flush(runId);
    expect(await rowsOf(runId)).toHaveLength(0);
    expect((await runRow(runId)).checkpoint).toBeNull();
    const final = {
      status: 'succeeded' as const,
      at: 1_700_000_000_200,
      counts: { read: 200, succeeded: 200, filtered: 0, failed: 0, cancelled: 0 },
      nodeCounts: {},
    };
    await expect(store.setStatus(runId, final)).rejects.toThrow(/could not be stored: could not extend file/);
    const run = await runRow(runId);
    expect(run.status).toBe('failed');
    expect(run.error).toMatch(/could not be stored: could not extend file/);
    expect(run.succeeded).toBe('0');
  });

  it('stores one message once, however many groups and stores write it at once', async () => {
    const runIds = await Promise.all(Array.from({ length: 4 }, () => newRun()));
    const stores = [store, new PgRunStore(db), new PgRunStore(db)];
    for (let i = 0; i < 50; i++) {
      runIds.forEach((runId, r) => {
        const failed: RecordOutcome = {
          ...ok(i),
          status: 'failed',
          error: i % 2 ? { message: `HTTP 500: failure number ${i}` } : { message: 'timed out', code: 'timeout' },
          payload: { i },
        };
        void (stores[r % stores.length] as PgRunStore).commit(runId, commitOf([failed]));
      });
      await Promise.all(stores.map((s) => s.flush()));
    }
    await Promise.all(stores.slice(1).map((s) => s.close()));
    const [counts] = await sql<{ n: number; distinct: number }>(
      'SELECT count(*)::int AS n, count(DISTINCT (message, code, http_status))::int AS distinct FROM error_messages',
    );
    expect(counts?.n).toBe(counts?.distinct);
    for (const runId of runIds) {
      const messages = await sql<{ message: string }>(
        `SELECT e.message FROM outcome_details o JOIN error_messages e ON e.id = o.error_id
           WHERE o.run_id = $1 ORDER BY o.seq`,
        [Number(runId)],
      );
      expect(messages.map((m) => m.message)).toEqual(
        Array.from({ length: 50 }, (_, i) => (i % 2 ? `HTTP 500: failure number ${i}` : 'timed out')),
      );
    }
  });

  it('refuses commits once closed, and records no status then', async () => {
    const runId = await newRun();
    store.commit(runId, commitOf([ok(0)]));
    await store.close();
    expect(await rowsOf(runId)).toHaveLength(1);
    expect(() => store.commit(runId, commitOf([ok(1)]))).toThrow(/the run store is closed/);
    await store.setStatus(runId, {
      status: 'failed',
      at: 1,
      error: "the run's records could not be stored: the run store is closed",
      counts: { read: 2, succeeded: 1, filtered: 0, failed: 0, cancelled: 1 },
      nodeCounts: {},
    });
    expect(await runRow(runId)).toMatchObject({ status: 'running', read: '1', succeeded: '1' });
  });

  it('writes a status change after everything committed before it, with the final counts', async () => {
    const runId = await newRun();
    store.commit(runId, commitOf([ok(0), ok(1)]));
    await store.setWaiting(runId, { kind: 'delay', nodeId: 'wait', until: 5 });
    expect((await runRow(runId)).waiting).toEqual({ kind: 'delay', nodeId: 'wait', until: 5 });
    await store.setStatus(runId, {
      status: 'succeeded',
      at: 1_700_000_000_100,
      counts: { read: 2, succeeded: 2, filtered: 0, failed: 0, cancelled: 0 },
      nodeCounts: {},
    });
    expect(await rowsOf(runId)).toHaveLength(2);
    expect(await runRow(runId)).toMatchObject({ status: 'succeeded', read: '2', waiting: null });
  });

  it('resumes from the checkpoint with what is settled past its low-water mark', async () => {
    const runId = await newRun();
    expect(await store.loadResume(runId)).toBeUndefined();
    store.commit(runId, commitOf([ok(0), ok(1), ok(5), ok(300), ok(2)], { checkpoint: checkpoint(2) }));
    await store.flush(runId);
    const state = await store.loadResume(runId);
    expect(state?.checkpoint.lowWater).toBe(2);
    expect(state?.counts).toEqual({ read: 5, succeeded: 5, filtered: 0, failed: 0, cancelled: 0 });
    expect([...(state?.settled ?? [])].sort((a, b) => a - b)).toEqual([2, 5, 300]);
  });

  it('writes a group again after a crash (another store, the same positions) leaving one row of each kind per position', async () => {
    const runId = await newRun();
    const failed = (seq: number, message: string): RecordOutcome => ({
      ...ok(seq),
      status: 'failed',
      error: { message },
      payload: { seq },
    });
    store.commit(
      runId,
      commitOf([ok(0), failed(1, 'first'), ok(2), failed(3, 'first')], { checkpoint: checkpoint(0) }),
    );
    await store.flush(runId);
    // the process died before its checkpoint moved: the next one settles the same positions again
    const next = new PgRunStore(db);
    next.commit(runId, commitOf([failed(0, 'again'), ok(1), ok(2, 'k-2-renamed'), failed(3, 'again')]));
    await next.close();
    const rows = await rowsOf(runId);
    expect(rows.map((r) => [r.seq, r.key, r.status])).toEqual([
      [0, 'k-0', 2],
      [1, 'k-1', 0],
      [2, 'k-2-renamed', 0],
      [3, 'k-3', 2],
    ]);
    const details = await sql<{ seq: number; message: string }>(
      `SELECT o.seq::int AS seq, e.message FROM outcome_details o JOIN error_messages e ON e.id = o.error_id
         WHERE o.run_id = $1 ORDER BY o.seq`,
      [Number(runId)],
    );
    expect(details).toEqual([
      { seq: 0, message: 'again' },
      { seq: 3, message: 'again' },
    ]);
    const keys = await sql<{ key: string; seq: number }>(
      `SELECT convert_from(key, 'UTF8') AS key, seq::int AS seq FROM outcome_keys WHERE run_id = $1 ORDER BY seq`,
      [Number(runId)],
    );
    expect(keys).toEqual([
      { key: 'k-0', seq: 0 },
      { key: 'k-1', seq: 1 },
      { key: 'k-2-renamed', seq: 2 },
      { key: 'k-3', seq: 3 },
    ]);
  });

  it('stores big payloads of failed records whole, sending them in groups bounded by bytes', async () => {
    const runId = await newRun();
    const cap = new PgRunStore(db, { payloadCap: 200_000 });
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
    // 500 rows are far from the row limit: only the bytes (60 MB) make commits wait
    expect(waited).toBeGreaterThan(0);
    await cap.close();
    const rows = await rowsOf(runId);
    expect(rows).toHaveLength(500);
    const payloads = rows.map((r) => JSON.parse(r.payload ?? '{}') as { seq: number; blob: string });
    expect(payloads.every((p, i) => p.seq === i && p.blob === blob)).toBe(true);
  }, 30_000);
});

describe('PgRunStore fencing', () => {
  const final = {
    status: 'succeeded' as const,
    at: 1_700_000_000_200,
    counts: { read: 2, succeeded: 2, filtered: 0, failed: 0, cancelled: 0 },
    nodeCounts: {},
  };

  /** A run claimed at epoch 1 by this store, then taken by another process (epoch 2). */
  async function takenOver(lost: string[]): Promise<string> {
    const runId = await newRun();
    await sql('UPDATE runs SET lease_epoch = 1 WHERE id = $1', [Number(runId)]);
    store.onLeaseLost = (id) => lost.push(id);
    store.fence(runId, 1);
    store.commit(runId, commitOf([ok(0), ok(1)], { checkpoint: checkpoint(2) }));
    await store.flush(runId);
    expect(await rowsOf(runId)).toHaveLength(2);
    await sql('UPDATE runs SET lease_epoch = 2 WHERE id = $1', [Number(runId)]);
    return runId;
  }

  it('refuses a group once the lease epoch moved on: nothing of it stored, the next commit throws, onLeaseLost once', async () => {
    const lost: string[] = [];
    const runId = await takenOver(lost);
    store.commit(
      runId,
      commitOf([ok(2, 'k-2', { x: 1 }), { ...ok(3), status: 'failed', error: { message: 'new message' } }], {
        checkpoint: checkpoint(4),
        batch: { batchNo: 2, size: 2, startedAt: 1, finishedAt: 2, succeeded: 1, filtered: 0, failed: 1 },
        collected: [{ nodeId: 'again', seq: 2, key: 'k-2', data: { y: 1 } }],
      }),
    );
    await store.flush(runId);
    expect(() => store.commit(runId, commitOf([ok(4)]))).toThrow(LeaseLostError);
    await expect(store.setStatus(runId, final)).rejects.toThrow(LeaseLostError);
    await expect(store.setWaiting(runId, null)).rejects.toThrow(LeaseLostError);
    expect(lost).toEqual([runId]);
    // nothing of that group: rows, checkpoint, counts, batch, collected record, message
    expect((await rowsOf(runId)).map((r) => r.seq)).toEqual([0, 1]);
    const run = await runRow(runId);
    expect(run).toMatchObject({ status: 'running', read: '2' });
    expect(run.checkpoint?.lowWater).toBe(2);
    expect(await sql('SELECT 1 FROM batches WHERE run_id = $1', [Number(runId)])).toEqual([]);
    expect(await sql('SELECT 1 FROM collected_records WHERE run_id = $1', [Number(runId)])).toEqual([]);
    expect(await sql(`SELECT 1 FROM error_messages WHERE message = 'new message'`)).toEqual([]);
  });

  it('refuses a status change and a waiting update once the lease epoch moved on', async () => {
    const lost: string[] = [];
    const runId = await takenOver(lost);
    await expect(store.setWaiting(runId, { kind: 'delay', nodeId: 'wait', until: 5 })).rejects.toThrow(LeaseLostError);
    await expect(store.setStatus(runId, final)).rejects.toThrow(LeaseLostError);
    expect(lost).toEqual([runId]);
    expect(await runRow(runId)).toMatchObject({ status: 'running', waiting: null });
  });

  it('writes again for a run fenced anew (taken up again), and unfenced runs are written without a condition', async () => {
    const lost: string[] = [];
    const runId = await takenOver(lost);
    await expect(store.setWaiting(runId, null)).rejects.toThrow(LeaseLostError);
    store.fence(runId, 2);
    store.commit(runId, commitOf([ok(2)], { checkpoint: checkpoint(3) }));
    await store.setStatus(runId, final);
    expect(await runRow(runId)).toMatchObject({ status: 'succeeded' });
    expect((await rowsOf(runId)).map((r) => r.seq)).toEqual([0, 1, 2]);
    const free = await newRun();
    await sql('UPDATE runs SET lease_epoch = 7 WHERE id = $1', [Number(free)]);
    store.commit(free, commitOf([ok(0)]));
    await store.setStatus(free, final);
    expect(await runRow(free)).toMatchObject({ status: 'succeeded' });
    expect(lost).toEqual([runId]);
  });
});

/**
 * A loopback TCP proxy to the test server that can stop passing on what the server sends, as a
 * process frozen with SIGSTOP reads nothing: `freezeAfter(text)` holds back the server's answers
 * from the first statement whose text starts so (which is passed on), `thaw()` delivers what was
 * held, the server's last words and its hang-up included.
 */
async function freezableProxy(target: string) {
  const to = new URL(target);
  let freezeOn: string | undefined;
  let frozen: Socket | undefined;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(Number(to.port || 5432), to.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => sockets.delete(s));
    }
    client.on('data', (d) => {
      upstream.write(d);
      if (freezeOn !== undefined && d.toString('latin1').includes(freezeOn)) {
        freezeOn = undefined;
        upstream.pause();
        frozen = upstream;
      }
    });
    upstream.on('data', (d) => client.write(d));
    // a hang-up (or a reset) on either side is passed on once what came before it has been
    client.on('close', () => upstream.end());
    upstream.on('close', () => client.end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  const url = new URL(target);
  url.hostname = '127.0.0.1';
  url.port = String(address.port);
  return {
    url: url.toString(),
    freezeAfter(text: string) {
      freezeOn = text;
    },
    thaw() {
      frozen?.resume();
      frozen = undefined;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('PgRunStore fencing, the connection of a write ended while the process was frozen', () => {
  /**
   * A run claimed by a store whose process freezes inside a group's transaction, right after the
   * fenced update of the run's row; PostgreSQL ends that session (as it does one idle inside a
   * transaction for 10 s); `takenOver`: meanwhile the lease expires and another process claims the
   * run. Then the process wakes and reads the server's answers and hang-up. Returns the run, the
   * runs the store reported lost, and the store (closed by the caller).
   */
  async function frozenMidGroup(takenOver: boolean) {
    const proxy = await freezableProxy(database.url);
    const frozenDb = pgDb(createPool(proxy.url, 4));
    const lost: string[] = [];
    const zombie = new PgRunStore(frozenDb, { onLeaseLost: (id) => lost.push(id) });
    const runId = await newRun();
    const mine = new PgLeases(frozenDb, 15_000, 'zombie');
    const epoch = await mine.claim(runId, ['running']);
    if (epoch === null) throw new Error('not claimed');
    zombie.fence(runId, epoch);

    proxy.freezeAfter('UPDATE runs SET read');
    zombie.commit(runId, commitOf([ok(0), ok(1)], { checkpoint: checkpoint(2) }));
    const written = zombie.flush(runId);
    const idle = async () =>
      (
        await sql<{ pid: number }>(
          `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND state = 'idle in transaction'
             AND query LIKE 'UPDATE runs SET read%'`,
        )
      )[0]?.pid;
    let pid: number | undefined;
    for (let i = 0; i < 200 && pid === undefined; i++) {
      pid = await idle();
      if (pid === undefined) await new Promise((r) => setTimeout(r, 25));
    }
    expect(pid, 'a session idle inside the group transaction').toBeDefined();
    await sql('SELECT pg_terminate_backend($1)', [pid]);
    for (let i = 0; i < 200 && (await idle()) !== undefined; i++) await new Promise((r) => setTimeout(r, 25));
    if (takenOver) {
      await sql('UPDATE runs SET lease_expires_at = 0 WHERE id = $1', [Number(runId)]);
      expect(await new PgLeases(db, 15_000, 'other').claim(runId, ['running'])).toBe(epoch + 1);
    }
    proxy.thaw();
    await written;
    return {
      runId,
      lost,
      zombie,
      async close() {
        await zombie.close();
        await frozenDb.$client.end();
        await proxy.close();
      },
    };
  }

  it('reports a lost lease, stores nothing and lives on when the run was taken over meanwhile', async () => {
    const { runId, lost, zombie, close } = await frozenMidGroup(true);
    try {
      expect(lost).toEqual([runId]);
      expect(() => zombie.commit(runId, commitOf([ok(2)]))).toThrow(LeaseLostError);
      await expect(
        zombie.setStatus(runId, {
          status: 'failed',
          at: 1,
          error: 'x',
          counts: { read: 2, succeeded: 2, filtered: 0, failed: 0, cancelled: 0 },
          nodeCounts: {},
        }),
      ).rejects.toThrow(LeaseLostError);
      expect(await rowsOf(runId)).toEqual([]);
      expect(await runRow(runId)).toMatchObject({ status: 'running', read: '0', checkpoint: null, error: null });
      expect(await sql('SELECT 1 FROM batches WHERE run_id = $1', [Number(runId)])).toEqual([]);
    } finally {
      await close();
    }
  });

  it('writes the group again on a fresh connection when its lease is still this process’s: stored once', async () => {
    const { runId, lost, zombie, close } = await frozenMidGroup(false);
    try {
      expect(lost).toEqual([]);
      zombie.commit(runId, commitOf([ok(2)], { checkpoint: checkpoint(3) }));
      await zombie.flush(runId);
      expect((await rowsOf(runId)).map((r) => r.seq)).toEqual([0, 1, 2]);
      expect(await runRow(runId)).toMatchObject({ status: 'running', error: null });
    } finally {
      await close();
    }
  });
});
