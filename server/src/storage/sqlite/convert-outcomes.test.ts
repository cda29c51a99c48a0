import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ReplayRecord } from '@sluice/engine';
import type { Page, RecordError, RecordOutcomeView, RecordStatus } from '@sluice/shared';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CollectedView, ErrorGroup } from '../port.js';
import { readOutput, readStored } from '../stored-json.js';
import { convertLegacyOutcomes, LEGACY_TABLE, NotEnoughRoom, openStoreDatabase } from './convert-outcomes.js';
import { CONNECTION_PRAGMAS, type Db } from './open.js';
import { OutcomePacks, type PackedOutcome } from './outcome-store.js';
import { SqliteRunQueries } from './runs.js';

/**
 * The conversion of record outcomes stored one row each (migrations 0000–0006, the layout of the
 * release before the packed one) into the packed tables, on a database built as that release built
 * it: its migrations only, its writer's statement. What was stored must read back the same through
 * every query of the run repository.
 */

const MIGRATIONS = fileURLToPath(new URL('../../../drizzle', import.meta.url));
/** The last migration of the release that stored an outcome per row. */
const LAST_OLD_MIGRATION = 6;

/** The statement the previous release's writer thread stored each outcome with. */
const OLD_INSERT_OUTCOME = `INSERT OR REPLACE INTO record_outcomes (run_id, seq, key, status, node_id, batch_no, attempts, error_id, payload, output, output_node, at)
   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
const OLD_INSERT_ERROR = 'INSERT INTO error_messages (message, code, http_status) VALUES (?, ?, ?)';

const STATUS: RecordStatus[] = ['succeeded', 'filtered', 'failed', 'cancelled'];
const [SUCCEEDED, FILTERED, FAILED, CANCELLED] = [0, 1, 2, 3];

let dir: string;
let file: string;
const opened: Database.Database[] = [];

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'sluice-convert-'));
  file = path.join(dir, 'data', 'sluice.sqlite');
  mkdirSync(path.dirname(file));
});

afterEach(() => {
  for (const c of opened.splice(0)) if (c.open) c.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The migrations folder of the previous release: migrations 0000–0006 and a journal that ends there. */
function oldMigrations(): string {
  const folder = path.join(dir, 'old-migrations');
  mkdirSync(path.join(folder, 'meta'), { recursive: true });
  const journal = JSON.parse(readFileSync(path.join(MIGRATIONS, 'meta', '_journal.json'), 'utf8')) as {
    entries: { idx: number; tag: string }[];
  };
  journal.entries = journal.entries.filter((e) => e.idx <= LAST_OLD_MIGRATION);
  expect(journal.entries).toHaveLength(LAST_OLD_MIGRATION + 1);
  for (const e of journal.entries) {
    copyFileSync(path.join(MIGRATIONS, `${e.tag}.sql`), path.join(folder, `${e.tag}.sql`));
    const snapshot = `${String(e.idx).padStart(4, '0')}_snapshot.json`;
    copyFileSync(path.join(MIGRATIONS, 'meta', snapshot), path.join(folder, 'meta', snapshot));
  }
  writeFileSync(path.join(folder, 'meta', '_journal.json'), JSON.stringify(journal, null, 2));
  return folder;
}

/** A connection to a database made by the previous release (created on first use). */
function openOld(at = file): Database.Database {
  const c = new Database(at);
  opened.push(c);
  for (const pragma of CONNECTION_PRAGMAS) c.pragma(pragma);
  migrate(drizzle(c), { migrationsFolder: oldMigrations() });
  return c;
}

function openNew(options: Parameters<typeof openStoreDatabase>[1] = {}): Db {
  const db = openStoreDatabase(file, options);
  opened.push(db.$client);
  return db;
}

// ---------------------------------------------------------------------------------------------
// The model: what the previous release stored, and what its queries read back

interface Stored {
  runId: number;
  seq: number;
  key: string;
  status: number;
  node: string;
  batch: number;
  attempts: number;
  errorId: number | null;
  payload: string | null;
  output: string | null;
  outputNode: string | null;
  at: number;
}

interface KeptRow {
  runId: number;
  nodeId: string;
  seq: number;
  key: string;
  data: string;
}

interface RunRow {
  id: number;
  flowId: string | null;
  status: string;
  retryOf?: number;
}

class Model {
  readonly outcomes: Stored[] = [];
  readonly kept: KeptRow[] = [];
  readonly errors = new Map<number, { message: string; code: string | null; httpStatus: number | null }>();
  readonly runs: RunRow[] = [];
  /** Retry run → its selection (seq → replacement payload JSON or null). */
  readonly selections = new Map<number, Map<number, string | null>>();

  of(runId: number): Stored[] {
    return this.outcomes.filter((o) => o.runId === runId).sort((a, b) => a.seq - b.seq);
  }

  at(runId: number, seq: number): Stored | undefined {
    return this.outcomes.find((o) => o.runId === runId && o.seq === seq);
  }

  error(id: number | null): RecordError | null {
    const e = id === null ? undefined : this.errors.get(id);
    if (!e) return null;
    return {
      message: e.message,
      ...(e.code ? { code: e.code } : {}),
      ...(e.httpStatus ? { httpStatus: e.httpStatus } : {}),
    };
  }

  view(o: Stored): RecordOutcomeView {
    const payload =
      o.payload === null
        ? { payload: null }
        : (() => {
            const { value, truncated } = readStored(o.payload);
            return truncated ? { payload: value, payloadTruncated: truncated } : { payload: value };
          })();
    return {
      runId: String(o.runId),
      seq: o.seq,
      key: o.key,
      status: STATUS[o.status] as RecordStatus,
      nodeId: o.node,
      batchNo: o.batch,
      attempts: o.attempts,
      error: this.error(o.errorId),
      ...payload,
      at: new Date(o.at).toISOString(),
    };
  }

  /** What the collect nodes kept in a run: outputs on outcome rows, then the second collect nodes' rows. */
  collected(runId: number): CollectedView[] {
    const items = [
      ...this.of(runId)
        .filter((o) => o.outputNode !== null)
        .map((o) => ({ nodeId: o.outputNode as string, seq: o.seq, key: o.key, data: o.output as string })),
      ...this.kept.filter((k) => k.runId === runId),
    ].sort((a, b) => a.seq - b.seq || (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0));
    return items.map((k) => {
      const o = this.at(runId, k.seq);
      return {
        nodeId: k.nodeId,
        seq: k.seq,
        key: k.key,
        ...readOutput(k.data, { payload: o?.payload ?? null, error: o ? this.error(o.errorId) : null }),
      };
    });
  }

  errorGroups(runId: number): ErrorGroup[] {
    const groups = new Map<string, { errorId: number | null; node: string; keys: string[] }>();
    for (const o of this.of(runId).filter((o) => o.status === FAILED)) {
      const id = `${o.errorId}\u0000${o.node}`;
      const g = groups.get(id) ?? { errorId: o.errorId, node: o.node, keys: [] };
      g.keys.push(o.key);
      groups.set(id, g);
    }
    return [...groups.values()].map((g) => {
      const e = g.errorId === null ? undefined : this.errors.get(g.errorId);
      return {
        message: e?.message ?? '(no message)',
        code: e?.code ?? null,
        httpStatus: e?.httpStatus ?? null,
        nodeId: g.node,
        count: g.keys.length,
        sampleKeys: g.keys.slice(0, 5),
      };
    });
  }

  replay(runId: number, retryRunId?: number): ReplayRecord[] {
    const selection = retryRunId === undefined ? undefined : this.selections.get(retryRunId);
    const failed = this.of(runId).filter((o) => o.status === FAILED && (!selection || selection.has(o.seq)));
    return failed.map((o) => {
      const replacement = selection?.get(o.seq);
      const payload =
        typeof replacement === 'string'
          ? JSON.parse(replacement)
          : o.payload === null
            ? {}
            : readStored(o.payload).truncated
              ? JSON.parse(o.payload)
              : readStored(o.payload).value;
      return { ref: o.seq, key: o.key, nodeId: o.node, payload } as ReplayRecord;
    });
  }
}

/** The pages a query gives, walked with its cursor, and the pages the model says it should give. */
async function pages<T extends { seq: number }>(
  fetch: (cursor: number | undefined) => Promise<Page<T>>,
  expected: readonly T[],
  limit: number,
): Promise<void> {
  let cursor: number | undefined;
  let walked = 0;
  for (;;) {
    const page = await fetch(cursor);
    const rest = expected.filter((e) => cursor === undefined || e.seq > cursor);
    const want = rest.slice(0, limit);
    expect(page.items).toEqual(want);
    expect(page.nextCursor).toBe(rest.length > limit ? String(want[want.length - 1]?.seq) : null);
    if (page.nextCursor === null) break;
    cursor = Number(page.nextCursor);
    if (++walked > 10_000) throw new Error('paging does not end');
  }
}

// ---------------------------------------------------------------------------------------------
// The database of the previous release

const T0 = Date.UTC(2026, 5, 1, 8, 0, 0);

/** Builds the previous release's database with several runs of two flows, stored as its writer stored them. */
function buildOld(c: Database.Database): Model {
  const m = new Model();
  const insertError = c.prepare(OLD_INSERT_ERROR);
  const error = (message: string, code: string | null, httpStatus: number | null) => {
    const id = Number(insertError.run(message, code, httpStatus).lastInsertRowid);
    m.errors.set(id, { message, code, httpStatus });
    return id;
  };
  const e503 = error('Service unavailable', 'HTTP_ERROR', 503);
  const eNumber = error('Expected a number: "x"', 'EXPRESSION', null);
  const ePlain = error('Connection reset — попробуйте ещё раз', null, null);
  const eOther = error('No such customer', 'NOT_FOUND', 404);

  const insertFlow = c.prepare(
    'INSERT INTO flows (id, name, description, latest_version, created_at, updated_at) VALUES (?, ?, NULL, 1, ?, ?)',
  );
  insertFlow.run('flow-a', 'Orders', T0, T0);
  insertFlow.run('flow-b', 'Customers', T0, T0);
  const insertRun = c.prepare(
    `INSERT INTO runs (id, flow_id, flow_name, status, trigger, created_at, started_at, finished_at, retry_of, run_number)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const run = (id: number, flowId: string, status: string, retryOf?: number) => {
    const n = m.runs.filter((r) => r.flowId === flowId).length + 1;
    const at = T0 + id * 60_000;
    insertRun.run(id, flowId, flowId, status, retryOf ? 'retry' : 'manual', at, at, at + 1, retryOf ?? null, n);
    m.runs.push({ id, flowId, status, ...(retryOf ? { retryOf } : {}) });
  };
  const insert = c.prepare(OLD_INSERT_OUTCOME);
  const store = (o: Stored) => {
    insert.run(
      o.runId,
      o.seq,
      o.key,
      o.status,
      o.node,
      o.batch,
      o.attempts,
      o.errorId,
      o.payload,
      o.output,
      o.outputNode,
      o.at,
    );
    m.outcomes.push(o);
  };
  const keep = (k: KeptRow) => {
    c.prepare('INSERT INTO collected_records (run_id, node_id, seq, key, data) VALUES (?, ?, ?, ?, ?)').run(
      k.runId,
      k.nodeId,
      k.seq,
      k.key,
      k.data,
    );
    m.kept.push(k);
  };
  const truncated = (seq: number) =>
    JSON.stringify({ $truncated: { bytes: 5_012, cap: 300, preview: `{"id":${seq},"note":"${'x'.repeat(290)}` } });
  const rejected = (key: string) =>
    JSON.stringify({ $outcome: { key, reason: 'not a number', payload: null, error: null } });

  // Run 1 (flow a): 1,000 outcomes, seq 0..999, every status, outputs, errors; four buckets of 256
  run(1, 'flow-a', 'succeeded');
  const special: Record<number, string> = {
    0: 'ключ-1',
    1: '鍵-2',
    2: '🦀-3',
    3: '👩‍👩‍👧 family',
    // one key on several records of a run, each ending differently
    10: 'dup',
    13: 'dup',
    600: 'dup',
    605: 'dup',
    700: 'dup',
  };
  c.transaction(() => {
    for (let seq = 0; seq < 1000; seq++) {
      const key = special[seq] ?? `order-${seq}`;
      const status = seq % 50 === 7 ? CANCELLED : seq % 10 === 3 ? FAILED : seq % 10 === 5 ? FILTERED : SUCCEEDED;
      const o: Stored = {
        runId: 1,
        seq,
        key,
        status,
        node: status === FAILED ? (seq % 20 === 3 ? 'http' : 'shape') : status === FILTERED ? 'only-paid' : 'out',
        batch: Math.floor(seq / 128) + 1,
        attempts: status === FAILED ? 3 : seq % 7 === 0 ? 2 : 1,
        errorId: null,
        payload: null,
        output: null,
        outputNode: null,
        at: T0 + 60_000 + seq * 37 + (seq % 3) * 1000,
      };
      if (status === FAILED) {
        o.errorId = seq === 993 ? null : ([e503, eNumber, ePlain][seq % 3] as number);
        o.payload = seq === 13 || seq === 33 ? truncated(seq) : JSON.stringify({ id: seq, amount: 'x', имя: key });
        if (seq % 30 === 3) {
          o.output = rejected(key);
          o.outputNode = 'rejects';
        }
      } else if (status === CANCELLED && seq % 100 === 7) {
        o.payload = JSON.stringify({ id: seq });
      } else if (status === SUCCEEDED && seq % 4 === 0) {
        o.output = JSON.stringify({ id: seq, twice: seq * 2, key });
        o.outputNode = 'kept';
      }
      if (seq === 4) {
        o.output = JSON.stringify({ $value: { $truncated: 'a value that only looks like a wrapper' } });
        o.outputNode = 'kept';
      }
      if (seq === 8) {
        o.output = truncated(8);
        o.outputNode = 'kept';
      }
      store(o);
    }
    // a second collect node on the error branch keeps its own rows
    for (const seq of [3, 33, 63]) {
      const o = m.at(1, seq) as Stored;
      keep({ runId: 1, nodeId: 'rejects-again', seq, key: o.key, data: rejected(o.key) });
    }
  })();

  // Run 2 (flow b): 300 outcomes, the same keys as flow a's first ones, other errors
  run(2, 'flow-b', 'succeeded');
  c.transaction(() => {
    for (let seq = 0; seq < 300; seq++) {
      const status = seq % 11 === 1 ? FAILED : SUCCEEDED;
      store({
        runId: 2,
        seq,
        key: special[seq] ?? `customer-${seq}`,
        status,
        node: status === FAILED ? 'lookup' : 'done',
        batch: Math.floor(seq / 100),
        attempts: 1,
        errorId: status === FAILED ? (seq % 2 ? eOther : e503) : null,
        payload: status === FAILED ? JSON.stringify({ customer: seq }) : null,
        output: seq % 5 === 0 ? JSON.stringify([seq, 'ok']) : null,
        outputNode: seq % 5 === 0 ? 'customers' : null,
        at: T0 + 120_000 + seq,
      });
    }
  })();

  // Run 3 (flow a): a retry of run 1 with a selection; sparse positions, far apart
  run(3, 'flow-a', 'succeeded', 1);
  m.selections.set(
    3,
    new Map<number, string | null>([
      [3, JSON.stringify({ id: 3, amount: 12 })],
      [13, null],
      [23, null],
      [500, null], // not a failed record: a retry's selection never reads it
    ]),
  );
  for (const [seq, payload] of m.selections.get(3) as Map<number, string | null>)
    c.prepare('INSERT INTO retry_selections (run_id, seq, payload) VALUES (3, ?, ?)').run(seq, payload);
  const sparse: Stored[] = [
    {
      seq: 5,
      key: 'ключ-1',
      status: SUCCEEDED,
      node: 'out',
      output: JSON.stringify({ again: true }),
      outputNode: 'kept',
    },
    { seq: 900, key: '鍵-2', status: FAILED, node: 'shape', output: rejected('鍵-2'), outputNode: 'rejects' },
    { seq: 70_000, key: '🦀-3', status: SUCCEEDED, node: 'out', output: null, outputNode: null },
  ].map((o, i) => ({
    runId: 3,
    batch: 1,
    attempts: 1,
    errorId: o.status === FAILED ? eNumber : null,
    payload: o.status === FAILED ? JSON.stringify({ id: 900, amount: 'still x' }) : null,
    at: T0 + 180_000 + i,
    ...o,
  }));
  for (const o of sparse) store(o);
  keep({ runId: 3, nodeId: 'rejects-again', seq: 900, key: '鍵-2', data: rejected('鍵-2') });

  // Run 4 (flow b): cancelled part way
  run(4, 'flow-b', 'cancelled');
  for (let seq = 0; seq < 10; seq++) {
    const status = seq < 6 ? seq % 3 : CANCELLED;
    store({
      runId: 4,
      seq,
      key: seq === 0 ? 'ключ-1' : seq === 1 ? '' : `customer-${seq}`,
      status,
      node: 'done',
      batch: 0,
      attempts: 1,
      errorId: status === FAILED ? ePlain : null,
      payload: status >= FAILED ? JSON.stringify({ customer: seq }) : null,
      output: null,
      outputNode: null,
      at: T0 + 240_000,
    });
  }

  // Run 5 (flow a): queued, nothing stored yet
  run(5, 'flow-a', 'queued');
  return m;
}

/** Every row of the old table, as stored (to tell it was left alone). */
const legacyRows = (c: Database.Database, table: string) =>
  c.prepare(`SELECT * FROM ${table} ORDER BY run_id, seq`).all();

const tableExists = (c: Database.Database, name: string) =>
  c.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(name) !== undefined;

/** Checks that every stored outcome reads back as the previous release read it, through every query. */
async function expectSameReads(db: Db, m: Model): Promise<void> {
  const repo = new SqliteRunQueries(db);
  const packs = new OutcomePacks(db.$client);
  const runIds = m.runs.map((r) => r.id);

  for (const runId of runIds) {
    const stored = m.of(runId);
    const views = stored.map((o) => m.view(o));

    // the packed outcomes themselves: every position once, every field
    const all = packs.all(runId, true);
    expect(all).toEqual(
      stored.map(
        (o): PackedOutcome => ({
          seq: o.seq,
          status: o.status,
          detail: o.status >= 2 || o.payload !== null || o.errorId !== null,
          node: o.node,
          outputNode: o.outputNode,
          attempts: o.attempts,
          batch: o.batch,
          at: o.at,
          key: o.key,
          output: o.outputNode === null ? null : o.output,
        }),
      ),
    );

    // what a resumed run reads: the first and last positions stored, and those from a position on
    const seqs = stored.map((o) => o.seq);
    const bare = (o: PackedOutcome | undefined) => o?.seq;
    expect(bare(packs.first(runId))).toBe(seqs[0]);
    expect(bare(packs.last(runId))).toBe(seqs[seqs.length - 1]);
    for (const atMost of [0, 255, 256, 511, 600, 899, 69_999, 100_000])
      expect(bare(packs.last(runId, atMost))).toBe(seqs.filter((s) => s <= atMost).pop());
    for (const from of [0, 5, 6, 256, 900, 901, 100_000])
      expect(packs.seqsFrom(runId, from).sort((a, b) => a - b)).toEqual(seqs.filter((s) => s >= from));

    // records: unfiltered and by each filter, walked page by page across buckets
    const records = (q: { status?: RecordStatus; nodeId?: string; key?: string }, limit: number) =>
      pages(
        (cursor) => repo.records(String(runId), { ...q, limit, ...(cursor === undefined ? {} : { cursor }) }),
        views.filter(
          (v) =>
            (q.status === undefined || v.status === q.status) &&
            (q.nodeId === undefined || v.nodeId === q.nodeId) &&
            (q.key === undefined || v.key === q.key),
        ),
        limit,
      );
    await records({}, 97);
    await records({}, 1000);
    for (const status of STATUS) await records({ status }, 41);
    const nodes = [...new Set(stored.map((o) => o.node))];
    for (const nodeId of nodes) {
      await records({ nodeId }, 53);
      for (const status of STATUS) await records({ status, nodeId }, 29);
    }
    await records({ nodeId: 'no-such-node' }, 10);
    // (an empty key is no filter to this query, as before: the API never asks for one)
    const keys = [...new Set(stored.map((o) => o.key))].filter((k, i) => k !== '' && (i < 12 || k === 'dup'));
    for (const key of keys) {
      await records({ key }, 1);
      await records({ key }, 2);
      for (const status of STATUS) await records({ key, status }, 1);
      for (const nodeId of nodes) await records({ key, nodeId }, 1);
    }
    await records({ key: 'no-such-key' }, 10);

    // what the collect nodes kept, with a failed record's payload and error put back
    const kept = m.collected(runId);
    await pages(
      (cursor) => repo.collected(String(runId), { limit: 37, ...(cursor === undefined ? {} : { cursor }) }),
      kept,
      37,
    );
    for (const nodeId of new Set(kept.map((k) => k.nodeId)))
      await pages(
        (cursor) => repo.collected(String(runId), { nodeId, limit: 11, ...(cursor === undefined ? {} : { cursor }) }),
        kept.filter((k) => k.nodeId === nodeId),
        11,
      );

    // failed records grouped by error (ties in any order, as the query leaves them)
    const byCountThenName = (a: ErrorGroup, b: ErrorGroup) =>
      b.count - a.count || `${a.nodeId}${a.message}`.localeCompare(`${b.nodeId}${b.message}`);
    expect((await repo.errorGroups(String(runId), 100)).sort(byCountThenName)).toEqual(
      m.errorGroups(runId).sort(byCountThenName),
    );

    // a retry's replay of the failed records, page by page, and which positions are not failed
    const replay = async (retryRunId?: number) => {
      const want = m.replay(runId, retryRunId);
      const got: ReplayRecord[] = [];
      for (let after = -1; ; ) {
        const page = await repo.failedForReplay(
          String(runId),
          after,
          7,
          retryRunId === undefined ? undefined : String(retryRunId),
        );
        got.push(...page);
        if (page.length < 7) break;
        after = (page[page.length - 1] as ReplayRecord).ref;
      }
      expect(got).toEqual(want);
    };
    await replay();
    for (const r of m.runs.filter((r) => r.retryOf === runId)) await replay(r.id);
    const asked = [...stored.map((o) => o.seq), 1_000_000];
    expect(await repo.notFailed(String(runId), asked)).toEqual(
      asked.filter((seq) => m.at(runId, seq)?.status !== FAILED),
    );
  }

  // one key's history in every run of a flow, newest run first
  for (const flowId of ['flow-a', 'flow-b']) {
    const runsOfFlow = new Set(m.runs.filter((r) => r.flowId === flowId).map((r) => r.id));
    const keys = new Set(m.outcomes.filter((o) => runsOfFlow.has(o.runId)).map((o) => o.key));
    for (const key of [...keys].filter((k, i) => i < 40 || !k.startsWith('order-'))) {
      const want = m.outcomes
        .filter((o) => runsOfFlow.has(o.runId) && o.key === key)
        .sort((a, b) => b.runId - a.runId || a.seq - b.seq)
        .map((o) => m.view(o));
      expect(await repo.history(flowId, key, 100)).toEqual(want);
      expect(await repo.history(flowId, key, 1)).toEqual(want.slice(0, 1));
    }
  }
  expect((await repo.history('flow-a', 'ключ-1', 100)).map((v) => [v.runId, v.seq])).toEqual([
    ['3', 5],
    ['1', 0],
  ]);
  expect((await repo.history('flow-b', 'ключ-1', 100)).map((v) => [v.runId, v.seq])).toEqual([
    ['4', 0],
    ['2', 0],
  ]);
  expect((await repo.history('flow-a', 'dup', 100)).map((v) => v.seq)).toEqual([10, 13, 600, 605, 700]);
}

/** What the packed tables hold, to tell a conversion wrote each outcome once. */
function packedCounts(c: Database.Database) {
  const n = (sql: string) => c.prepare(sql).pluck().get() as number;
  return {
    keys: n('SELECT COUNT(*) FROM outcome_keys'),
    details: n('SELECT COUNT(*) FROM outcome_details'),
    packs: n('SELECT COUNT(*) FROM outcome_packs'),
    parts: n('SELECT COUNT(*) FROM outcome_packs WHERE part > 0'),
  };
}

function expectedCounts(m: Model) {
  const buckets = new Set(m.outcomes.map((o) => `${o.runId}/${o.seq >> 8}`));
  return {
    keys: m.outcomes.length,
    details: m.outcomes.filter((o) => o.status >= FAILED || o.payload !== null || o.errorId !== null).length,
    packs: buckets.size,
    parts: 0,
  };
}

describe('converting record outcomes stored a row each', () => {
  it('reads back every outcome as before, through every query, and drops the old table', async () => {
    const old = openOld();
    const m = buildOld(old);
    expect(old.prepare('SELECT COUNT(*) FROM record_outcomes').pluck().get()).toBe(m.outcomes.length);
    old.close();

    const lines: string[] = [];
    const db = openNew({ progress: (line) => lines.push(line) });
    const c = db.$client;
    expect(tableExists(c, LEGACY_TABLE)).toBe(false);
    expect(tableExists(c, 'record_outcomes')).toBe(false);
    expect(packedCounts(c)).toEqual(expectedCounts(m));
    expect(lines[0]).toBe(
      `Converting ${m.outcomes.length.toLocaleString('en-US')} stored record outcomes to the packed layout…`,
    );
    expect(lines[lines.length - 1]).toMatch(
      new RegExp(
        `^Converted ${m.outcomes.length.toLocaleString('en-US')} record outcomes of 4 runs in \\d+\\.\\d s\\.$`,
      ),
    );
    await expectSameReads(db, m);

    // a literal look at the cases the wrappers make, besides the model
    const repo = new SqliteRunQueries(db);
    const rejects = (await repo.collected('1', { nodeId: 'rejects', limit: 1, cursor: 32 })).items[0];
    expect(rejects).toEqual({
      nodeId: 'rejects',
      seq: 33,
      key: 'order-33',
      data: {
        key: 'order-33',
        reason: 'not a number',
        payload: `{"id":33,"note":"${'x'.repeat(290)}`,
        error: { message: 'Service unavailable', code: 'HTTP_ERROR', httpStatus: 503 },
      },
      payloadTruncated: { bytes: 5_012, cap: 300 },
    });
    const fourAndEight = (await repo.collected('1', { nodeId: 'kept', limit: 2, cursor: 0 })).items;
    expect(fourAndEight.map((k) => [k.seq, k.data, k.dataTruncated])).toEqual([
      [4, { $truncated: 'a value that only looks like a wrapper' }, undefined],
      [8, `{"id":8,"note":"${'x'.repeat(290)}`, { bytes: 5_012, cap: 300 }],
    ]);
    expect((await repo.records('3', { limit: 10 })).items.map((o) => o.seq)).toEqual([5, 900, 70_000]);
    expect((await repo.records('3', { limit: 1, cursor: 900 })).items.map((o) => o.key)).toEqual(['🦀-3']);

    // opened again: nothing left to convert, nothing said
    db.$client.close();
    const again: string[] = [];
    const reopened = openNew({ progress: (line) => again.push(line) });
    expect(again).toEqual([]);
    expect(packedCounts(reopened.$client)).toEqual(expectedCounts(m));
  });

  it('refuses without room, changing nothing, and converts at a later start with room', async () => {
    const old = openOld();
    const m = buildOld(old);
    const before = legacyRows(old, 'record_outcomes');
    old.close();

    const lines: string[] = [];
    let refused: unknown;
    try {
      openNew({ freeBytes: 0, progress: (line) => lines.push(line) });
    } catch (err) {
      refused = err;
    }
    expect(refused).toBeInstanceOf(NotEnoughRoom);
    const message = (refused as Error).message;
    expect(message).toMatch(
      /needs about [1-9][\d,]* MB free on its disk; 0 MB are free\. No outcome was moved or lost/,
    );
    expect(message).toContain(file);
    expect(lines).toEqual([]);

    // a little room, still not enough
    expect(() => openNew({ freeBytes: 4096 })).toThrow(NotEnoughRoom);

    const c = new Database(file);
    opened.push(c);
    expect(tableExists(c, LEGACY_TABLE)).toBe(true);
    expect(legacyRows(c, LEGACY_TABLE)).toEqual(before);
    expect(packedCounts(c)).toEqual({ keys: 0, details: 0, packs: 0, parts: 0 });
    c.close();

    const later: string[] = [];
    const db = openNew({ progress: (line) => later.push(line) });
    expect(tableExists(db.$client, LEGACY_TABLE)).toBe(false);
    expect(later[later.length - 1]).toMatch(
      `Converted ${m.outcomes.length.toLocaleString('en-US')} record outcomes of 4 runs`,
    );
    expect(packedCounts(db.$client)).toEqual(expectedCounts(m));
    await expectSameReads(db, m);
  });

  it('a conversion cut short is done again without storing anything twice', async () => {
    const old = openOld();
    const m = buildOld(old);
    old.close();

    // the same database converted in full elsewhere, to take packed rows from
    const whole = path.join(dir, 'whole.sqlite');
    const src = new Database(file);
    opened.push(src);
    src.pragma('wal_checkpoint(TRUNCATE)');
    src.close();
    copyFileSync(file, whole);
    const converted = openStoreDatabase(whole, { progress: () => {} });
    opened.push(converted.$client);
    converted.$client.close();

    // the release's migrations applied, and some runs' packed rows stored, with the old table still there:
    // run 1 in part (its first two buckets, and their keys and details), run 3 whole
    const c = new Database(file);
    opened.push(c);
    for (const pragma of CONNECTION_PRAGMAS) c.pragma(pragma);
    migrate(drizzle(c), { migrationsFolder: MIGRATIONS });
    expect(tableExists(c, LEGACY_TABLE)).toBe(true);
    c.prepare('ATTACH DATABASE ? AS whole').run(whole);
    c.exec(`
      INSERT INTO outcome_packs (run_id, bucket, part, count, statuses, nodes, base_at, base_batch, meta, keys)
        SELECT run_id, bucket, part, count, statuses, nodes, base_at, base_batch, meta, keys FROM whole.outcome_packs
        WHERE run_id = 3 OR (run_id = 1 AND bucket < 2);
      INSERT INTO outcome_outputs (run_id, bucket, part, outputs) SELECT run_id, bucket, part, outputs FROM whole.outcome_outputs WHERE run_id = 3 OR (run_id = 1 AND bucket < 2);
      INSERT INTO outcome_keys SELECT * FROM whole.outcome_keys WHERE run_id = 3 OR (run_id = 1 AND seq < 512);
      INSERT INTO outcome_details SELECT * FROM whole.outcome_details WHERE run_id = 3 OR (run_id = 1 AND seq < 512);
      DETACH DATABASE whole;
    `);
    expect(packedCounts(c).packs).toBe(2 + 3);
    c.close();

    const lines: string[] = [];
    const db = openNew({ progress: (line) => lines.push(line) });
    expect(tableExists(db.$client, LEGACY_TABLE)).toBe(false);
    expect(lines[lines.length - 1]).toMatch(
      `Converted ${m.outcomes.length.toLocaleString('en-US')} record outcomes of 4 runs`,
    );
    expect(packedCounts(db.$client)).toEqual(expectedCounts(m));
    const packs = new OutcomePacks(db.$client);
    for (const r of m.runs) expect(packs.all(r.id).map((o) => o.seq)).toEqual(m.of(r.id).map((o) => o.seq));
    await expectSameReads(db, m);
  });

  it('an empty old table is dropped, with nothing to say', () => {
    const old = openOld();
    old
      .prepare(
        `INSERT INTO runs (flow_id, flow_name, status, trigger, created_at) VALUES (NULL, 'x', 'queued', 'cli', ?)`,
      )
      .run(T0);
    old.close();
    const lines: string[] = [];
    const db = openNew({ progress: (line) => lines.push(line), freeBytes: 0 });
    expect(tableExists(db.$client, LEGACY_TABLE)).toBe(false);
    expect(lines).toEqual([]);
    expect(packedCounts(db.$client)).toEqual({ keys: 0, details: 0, packs: 0, parts: 0 });
    expect(convertLegacyOutcomes(db.$client, { freeBytes: 0 })).toEqual({ runs: 0, outcomes: 0 });

    // and a database made new by this release never had outcomes to convert
    const fresh = openStoreDatabase(path.join(dir, 'fresh', 'sluice.sqlite'), { progress: (line) => lines.push(line) });
    opened.push(fresh.$client);
    expect(tableExists(fresh.$client, LEGACY_TABLE)).toBe(false);
    expect(tableExists(fresh.$client, 'record_outcomes')).toBe(false);
    expect(lines).toEqual([]);
  });

  it('converts a large table: 300,000 outcomes, runs with many groups each', { timeout: 180_000 }, async () => {
    const old = openOld();
    const insertRun = old.prepare(
      `INSERT INTO runs (id, flow_id, flow_name, status, trigger, created_at) VALUES (?, NULL, 'big', 'succeeded', 'cli', ?)`,
    );
    const runs = [
      { id: 1, count: 250_000 },
      { id: 2, count: 49_999 },
      { id: 3, count: 1 },
    ];
    const errorId = Number(old.prepare(OLD_INSERT_ERROR).run('Bad row', 'E', null).lastInsertRowid);
    for (const r of runs) {
      insertRun.run(r.id, T0 + r.id);
      old
        .prepare(
          `WITH RECURSIVE n(seq) AS (SELECT 0 UNION ALL SELECT seq + 1 FROM n WHERE seq + 1 < ?)
           INSERT INTO record_outcomes (run_id, seq, key, status, node_id, batch_no, attempts, error_id, payload, output, output_node, at)
           SELECT ?, seq, 'key-' || seq, CASE WHEN seq % 97 = 0 THEN 2 WHEN seq % 13 = 0 THEN 1 ELSE 0 END,
             CASE WHEN seq % 97 = 0 THEN 'fetch' ELSE 'out' END, seq / 500, 1,
             CASE WHEN seq % 97 = 0 THEN ? END, CASE WHEN seq % 97 = 0 THEN '{"n":' || seq || '}' END,
             CASE WHEN seq % 10 = 0 AND seq % 97 <> 0 THEN '{"kept":' || seq || '}' END,
             CASE WHEN seq % 10 = 0 AND seq % 97 <> 0 THEN 'keep' END, ? + seq * 3 FROM n`,
        )
        .run(r.count, r.id, errorId, T0);
    }
    const total = runs.reduce((s, r) => s + r.count, 0);
    expect(old.prepare('SELECT COUNT(*) FROM record_outcomes').pluck().get()).toBe(total);
    old.close();

    // the room it says it needs, asked with none
    let needed = 0;
    try {
      openNew({ freeBytes: 0 });
    } catch (err) {
      needed = Number(/needs about ([\d,]+) MB free/.exec((err as Error).message)?.[1]?.replaceAll(',', '')) * 2 ** 20;
    }
    expect(needed).toBeGreaterThan(0);

    // the disk it takes: the file and its write-ahead log (which keeps its largest size until the
    // end, when the last line is said)
    const wal = `${file}-wal`;
    const onDisk = () => statSync(file).size + (existsSync(wal) ? statSync(wal).size : 0);
    const before = onDisk();
    let most = before;
    const lines: string[] = [];
    const db = openNew({
      progress: (line) => {
        lines.push(line);
        most = Math.max(most, onDisk());
      },
    });
    const c = db.$client;
    expect(tableExists(c, LEGACY_TABLE)).toBe(false);
    expect(most - before).toBeLessThanOrEqual(needed);
    expect(statSync(wal).size).toBe(0); // the log's room handed back
    expect(lines[0]).toBe('Converting 300,000 stored record outcomes to the packed layout…');
    expect(lines[lines.length - 1]).toMatch(/^Converted 300,000 record outcomes of 3 runs in \d+\.\d s\.$/);
    for (const line of lines.slice(1, -1)) expect(line).toMatch(/^ {2}[\d,]+ of 300,000 \(\d+%\)$/);

    const packs = new OutcomePacks(c);
    const repo = new SqliteRunQueries(db);
    for (const r of runs) {
      const all = packs.all(r.id, true);
      expect(all).toHaveLength(r.count);
      expect(all.every((o, i) => o.seq === i && o.key === `key-${i}`)).toBe(true);
      expect(all.every((o) => o.at === T0 + o.seq * 3 && o.batch === Math.floor(o.seq / 500))).toBe(true);
      const kept = all.filter((o) => o.output !== null);
      expect(kept).toHaveLength(all.filter((o) => o.seq % 10 === 0 && o.seq % 97 !== 0).length);
      expect(kept.every((o) => o.output === `{"kept":${o.seq}}` && o.outputNode === 'keep')).toBe(true);
      const failed = Math.floor((r.count - 1) / 97) + 1;
      expect(await repo.errorGroups(String(r.id), 10)).toEqual([
        {
          message: 'Bad row',
          code: 'E',
          httpStatus: null,
          nodeId: 'fetch',
          count: failed,
          sampleKeys: [0, 97, 194, 291, 388].slice(0, failed).map((s) => `key-${s}`),
        },
      ]);
    }
    const n = (sql: string) => c.prepare(sql).pluck().get() as number;
    expect(n('SELECT COUNT(*) FROM outcome_keys')).toBe(total);
    expect(n('SELECT COUNT(*) FROM outcome_details')).toBe(
      runs.reduce((s, r) => s + Math.floor((r.count - 1) / 97) + 1, 0),
    );
    expect(n('SELECT COUNT(*) FROM outcome_packs WHERE part > 0')).toBeGreaterThan(0); // groups cut buckets in two
    const page = await repo.records('1', { limit: 3, cursor: 199_998 });
    expect(page.items.map((o) => [o.seq, o.key, o.status])).toEqual([
      [199_999, 'key-199999', 'succeeded'],
      [200_000, 'key-200000', 'succeeded'],
      [200_001, 'key-200001', 'succeeded'],
    ]);
  });
});
