import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Checkpoint, CollectedRecord, RecordOutcome, RunCommit } from '@sluice/engine';
import type { RecordError, RecordOutcomeView, RecordStatus } from '@sluice/shared';
import type Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CollectedView, RecordQuery } from '../port.js';
import { databaseFile, openDatabase } from './open.js';
import { prune } from './retention.js';
import { SqliteRunStore } from './run-store.js';
import { SqliteRunQueries } from './runs.js';

/**
 * The packed record storage (outcome-pack.mjs) against a model: every outcome stored is also kept
 * in a plain array, and every query of the repository must answer as a filter of that array would.
 * Writes go through the run store (its writer thread, groups of varying sizes, so buckets are split
 * into parts); reads through the repository.
 */

const STATUSES: RecordStatus[] = ['succeeded', 'filtered', 'failed', 'cancelled'];
const NODES = ['src', 'map', 'map2', 'wrïte ✓'];
const ERRORS: RecordError[] = [
  { message: 'HTTP 422: title is required', code: 'http', httpStatus: 422 },
  { message: 'timed out', code: 'timeout' },
  { message: 'Ошибка: нет поля «цена»' },
];
const BASE_AT = 1_700_000_000_000;

/** A small deterministic random source (mulberry32). */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle<T>(list: T[], rnd: () => number): T[] {
  for (let i = list.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [list[i], list[j]] = [list[j] as T, list[i] as T];
  }
  return list;
}

const checkpoint = (lowWater: number): Checkpoint => ({
  version: 1,
  lowWater,
  nextBatch: 2,
  sourcesDone: [],
  nodeState: {},
  breakers: {},
});

/** Kept in memory as stored: per run, the last outcome written at each position, and the second collect node's records. */
interface RunModel {
  outcomes: Map<number, RecordOutcome>;
  collected: Map<string, CollectedRecord>;
  lowWater: number;
}

class Harness {
  readonly dir: string;
  readonly db: ReturnType<typeof openDatabase>;
  readonly store: SqliteRunStore;
  readonly runs: SqliteRunQueries;
  readonly models = new Map<string, RunModel>();

  constructor() {
    this.dir = mkdtempSync(path.join(tmpdir(), 'sluice-packs-'));
    this.db = openDatabase(databaseFile(this.dir));
    this.store = new SqliteRunStore(this.db);
    this.runs = new SqliteRunQueries(this.db);
  }

  get c(): Database.Database {
    return this.db.$client;
  }

  async close(): Promise<void> {
    await this.store.close();
    this.c.close();
    rmSync(this.dir, { recursive: true, force: true });
  }

  flow(id: string): string {
    this.c
      .prepare('INSERT INTO flows (id, name, latest_version, created_at, updated_at) VALUES (?, ?, 1, 0, 0)')
      .run(id, id);
    return id;
  }

  async newRun(flowId: string | null = null): Promise<string> {
    const id = await this.runs.create({ flowId, flowVersionId: null, flowName: flowId ?? 'packs', trigger: 'cli' });
    this.models.set(id, { outcomes: new Map(), collected: new Map(), lowWater: 0 });
    return id;
  }

  model(runId: string): RunModel {
    return this.models.get(runId) as RunModel;
  }

  /** Commits outcomes (and second-collect-node records) as the engine does; `flush` ends the group there. */
  commit(runId: string, outcomes: RecordOutcome[], collected: CollectedRecord[] = [], lowWater = 0): void {
    const m = this.model(runId);
    const counts = { read: outcomes.length, succeeded: 0, filtered: 0, failed: 0, cancelled: 0 };
    for (const o of outcomes) counts[o.status]++;
    const commit: RunCommit = {
      outcomes,
      collected,
      counts,
      nodeCounts: {},
      checkpoint: checkpoint(lowWater),
    };
    void this.store.commit(runId, commit);
    for (const o of outcomes) m.outcomes.set(o.seq, o);
    for (const r of collected) m.collected.set(`${r.nodeId}\u0000${r.seq}`, r);
    m.lowWater = lowWater;
  }

  /** The model's outcomes of a run in position order. */
  sorted(runId: string): RecordOutcome[] {
    return [...this.model(runId).outcomes.values()].sort((a, b) => a.seq - b.seq);
  }
}

const errorOf = (e: RecordError | undefined) =>
  e
    ? { message: e.message, ...(e.code ? { code: e.code } : {}), ...(e.httpStatus ? { httpStatus: e.httpStatus } : {}) }
    : null;

/** What the API must say of an outcome stored as `o`. */
function view(runId: string, o: RecordOutcome): RecordOutcomeView {
  return {
    runId,
    seq: o.seq,
    key: o.key,
    status: o.status,
    nodeId: o.nodeId,
    batchNo: o.batchNo,
    attempts: o.attempts,
    error: errorOf(o.error),
    payload: o.payload === undefined ? null : o.payload,
    at: new Date(o.at).toISOString(),
  };
}

/** Walks every page of a records query; checks the pages' sizes and the cursor's end. */
async function allPages(h: Harness, runId: string, q: Omit<RecordQuery, 'cursor'>): Promise<RecordOutcomeView[]> {
  const items: RecordOutcomeView[] = [];
  let cursor: number | undefined;
  for (let pages = 0; ; pages++) {
    if (pages > 10_000) throw new Error('the pages do not end');
    const page = await h.runs.records(runId, { ...q, cursor });
    expect(page.items.length).toBeLessThanOrEqual(q.limit);
    items.push(...page.items);
    if (page.nextCursor === null) return items;
    // a page that says there is more is full
    expect(page.items.length).toBe(q.limit);
    expect(page.nextCursor).toBe(String(page.items[page.items.length - 1]?.seq));
    cursor = Number(page.nextCursor);
  }
}

/** Every records query a run can be asked, at several page sizes, against the model. */
async function checkRecords(h: Harness, runId: string, limits = [1, 7, 50, 1000]): Promise<void> {
  const all = h.sorted(runId);
  const keys = [...new Set(all.map((o) => o.key))];
  const someKeys = [...keys.filter((k) => all.filter((o) => o.key === k).length > 1), ...keys.slice(0, 3)];
  const queries: Omit<RecordQuery, 'cursor' | 'limit'>[] = [{}];
  for (const status of STATUSES) queries.push({ status });
  for (const nodeId of [...NODES, 'map"', 'ma', 'nowhere']) queries.push({ nodeId });
  for (const status of STATUSES) for (const nodeId of NODES) queries.push({ status, nodeId });
  for (const key of someKeys) {
    queries.push({ key });
    // a prefix of a key, or the key with more, is another key
    queries.push({ key: key.slice(0, -1) }, { key: `${key}x` });
    for (const status of STATUSES) queries.push({ key, status });
    queries.push({ key, nodeId: all.find((o) => o.key === key)?.nodeId as string });
  }
  for (const q of queries) {
    const expected = all
      .filter(
        (o) =>
          (q.status === undefined || o.status === q.status) &&
          (q.nodeId === undefined || o.nodeId === q.nodeId) &&
          (q.key === undefined || o.key === q.key),
      )
      .map((o) => view(runId, o));
    for (const limit of limits) {
      const got = await allPages(h, runId, { ...q, limit });
      expect(got, `${JSON.stringify(q)} limit ${limit}`).toEqual(expected);
    }
  }
}

/** Collected records (first collect node's outputs with the second's rows), walked page by page. */
function expectedCollected(h: Harness, runId: string, nodeId?: string): CollectedView[] {
  const m = h.model(runId);
  const out: CollectedView[] = [];
  for (const o of m.outcomes.values())
    if (o.outputNode !== undefined) out.push({ nodeId: o.outputNode, seq: o.seq, key: o.key, data: o.output });
  for (const r of m.collected.values()) out.push({ nodeId: r.nodeId, seq: r.seq, key: r.key, data: r.data });
  return out
    .filter((r) => nodeId === undefined || r.nodeId === nodeId)
    .sort((a, b) => a.seq - b.seq || (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0));
}

async function collectedPages(h: Harness, runId: string, limit: number, nodeId?: string): Promise<CollectedView[]> {
  const items: CollectedView[] = [];
  let cursor: number | undefined;
  for (let pages = 0; ; pages++) {
    if (pages > 10_000) throw new Error('the pages do not end');
    const page = await h.runs.collected(runId, { limit, cursor, ...(nodeId === undefined ? {} : { nodeId }) });
    items.push(...page.items);
    if (page.nextCursor === null) return items;
    expect(page.items.length).toBeGreaterThan(0);
    cursor = Number(page.nextCursor);
  }
}

async function checkFailures(h: Harness, runId: string): Promise<void> {
  const all = h.sorted(runId);
  const failed = all.filter((o) => o.status === 'failed');
  // error groups: by error and node, counts, first five keys
  const groups = new Map<string, { o: RecordOutcome; keys: string[] }>();
  for (const o of failed) {
    const id = `${JSON.stringify(errorOf(o.error))}|${o.nodeId}`;
    const g = groups.get(id) ?? { o, keys: [] };
    g.keys.push(o.key);
    groups.set(id, g);
  }
  const expected = [...groups.values()].map(({ o, keys }) => ({
    message: o.error?.message ?? '(no message)',
    code: o.error?.code ?? null,
    httpStatus: o.error?.httpStatus ?? null,
    nodeId: o.nodeId,
    count: keys.length,
    sampleKeys: keys.slice(0, 5),
  }));
  const got = await h.runs.errorGroups(runId, 1000);
  const order = (g: { nodeId: string; message: string; code: string | null }) => `${g.nodeId}|${g.message}|${g.code}`;
  const byName = <T extends { nodeId: string; message: string; code: string | null }>(list: T[]) =>
    [...list].sort((a, b) => (order(a) < order(b) ? -1 : 1));
  expect(byName(got)).toEqual(byName(expected));
  for (let i = 1; i < got.length; i++)
    expect((got[i - 1] as { count: number }).count).toBeGreaterThanOrEqual((got[i] as { count: number }).count);
  expect(await h.runs.errorGroups(runId, 2)).toHaveLength(Math.min(2, expected.length));

  // replay: every failed record once, in order, with its payload, in pages
  for (const limit of [1, 13, 1000]) {
    const replay: { ref: number; key: string; nodeId: string; payload: unknown }[] = [];
    let after = -1;
    for (;;) {
      const page = await h.runs.failedForReplay(runId, after, limit);
      replay.push(...page);
      if (page.length < limit) break;
      after = (page[page.length - 1] as { ref: number }).ref;
    }
    expect(replay).toEqual(
      failed.map((o) => ({
        ref: o.seq,
        key: o.key,
        nodeId: o.nodeId,
        payload: o.payload === undefined ? {} : o.payload,
      })),
    );
  }

  // a retry run given a selection feeds those failed records, with a replacement payload where given
  const chosen = failed.filter((_, i) => i % 3 === 0);
  if (chosen.length) {
    const retry = await h.runs.create({
      flowId: null,
      flowVersionId: null,
      flowName: 'retry',
      trigger: 'cli',
      retryOf: runId,
      selection: chosen.map((o, i) => (i % 2 ? { seq: o.seq, payload: { replaced: o.seq } } : { seq: o.seq })),
    });
    for (const limit of [1, 1000]) {
      const replay: { ref: number; payload: unknown }[] = [];
      for (let after = -1; ; ) {
        const page = await h.runs.failedForReplay(runId, after, limit, retry);
        replay.push(...page.map((r) => ({ ref: r.ref, payload: r.payload })));
        if (page.length < limit) break;
        after = (page[page.length - 1] as { ref: number }).ref;
      }
      expect(replay).toEqual(
        chosen.map((o, i) => ({
          ref: o.seq,
          payload: i % 2 ? { replaced: o.seq } : o.payload === undefined ? {} : o.payload,
        })),
      );
    }
  }

  // a retry selection names failed records: everything else is refused
  const probe = [...all.map((o) => o.seq), -1, 1e9];
  expect(await h.runs.notFailed(runId, probe)).toEqual(
    probe.filter((s) => h.model(runId).outcomes.get(s)?.status !== 'failed'),
  );
}

async function checkResume(h: Harness, runId: string): Promise<void> {
  const m = h.model(runId);
  const state = await h.store.loadResume(runId);
  const expected = [...m.outcomes.keys()].filter((s) => s >= m.lowWater).sort((a, b) => a - b);
  expect([...(state?.settled ?? [])].sort((a, b) => a - b)).toEqual(expected);
}

async function checkAll(h: Harness, runId: string, limits?: number[]): Promise<void> {
  checkRecords(h, runId, limits);
  await checkFailures(h, runId);
  await checkResume(h, runId);
  for (const limit of [1, 7, 1000]) {
    expect(await collectedPages(h, runId, limit)).toEqual(expectedCollected(h, runId));
    for (const nodeId of ['out', 'again', 'rejects'])
      expect(await collectedPages(h, runId, limit, nodeId)).toEqual(expectedCollected(h, runId, nodeId));
  }
}

/** An outcome of every kind, chosen by a random source: statuses, nodes, errors, payloads, outputs. */
function outcome(seq: number, rnd: () => number, key = `k-${seq}`): RecordOutcome {
  const r = rnd();
  const status: RecordStatus = r < 0.5 ? 'succeeded' : r < 0.65 ? 'filtered' : r < 0.88 ? 'failed' : 'cancelled';
  const base = {
    seq,
    key,
    status,
    nodeId: NODES[Math.floor(rnd() * NODES.length)] as string,
    batchNo: 1 + Math.floor(seq / 100) + Math.floor(rnd() * 3),
    attempts: 1 + Math.floor(rnd() * 4),
    at: BASE_AT + seq * 7 + Math.floor(rnd() * 100_000),
  };
  if (status === 'failed') {
    const error = ERRORS[seq % ERRORS.length] as RecordError;
    const payload = { seq, title: rnd() < 0.5 ? '' : 'Заголовок 🚀' };
    const o: RecordOutcome = { ...base, error, payload };
    // an error branch's collect node keeps the payload and error it was given
    if (rnd() < 0.3) return { ...o, outputNode: 'rejects', output: { seq, payload, error } };
    return seq % 11 === 0 ? { ...base } : o; // a failure with neither: still a failure
  }
  if (status === 'cancelled') return rnd() < 0.3 ? { ...base, error: { message: 'the run was cancelled' } } : base;
  if (status === 'succeeded' && rnd() < 0.4)
    return { ...base, outputNode: 'out', output: { seq, note: 'ünï', n: null } };
  return base;
}

describe('packed record outcomes against a model', () => {
  let h: Harness;
  beforeAll(() => {
    h = new Harness();
  });
  afterAll(() => h.close());

  it('answers every query of a run of 3,000 outcomes, written in groups of varying sizes and out of order', async () => {
    const rnd = random(7);
    const runId = await h.newRun();
    const seqs = Array.from({ length: 3000 }, (_, i) => i);
    const sizes = [1, 37, 300, 511, 1000, 64, 255, 257, 2, 129];
    let from = 0;
    for (let i = 0; from < seqs.length; i++) {
      const size = sizes[i % sizes.length] as number;
      const chunk = shuffle(seqs.slice(from, from + size), rnd);
      const outcomes = chunk.map((seq) =>
        outcome(seq, rnd, seq % 50 === 7 ? 'dup' : seq % 97 === 0 ? `заказ-${seq % 3}` : `k-${seq}`),
      );
      // a second collect node keeps some of them
      const collected = outcomes
        .filter((o) => o.seq % 9 === 0)
        .map((o) => ({ seq: o.seq, key: o.key, nodeId: 'again', data: { again: o.seq, 文: '字' } }));
      h.commit(runId, outcomes, collected, 1234);
      // most commits are a group of their own; some join the next
      if (i % 3 !== 1) await h.store.flush(runId);
      from += size;
    }
    await h.store.flush(runId);
    const parts = h.c
      .prepare('SELECT COUNT(*) FROM outcome_packs WHERE run_id = ? AND part > 0')
      .pluck()
      .get(Number(runId)) as number;
    expect(parts).toBeGreaterThan(3); // buckets split across groups
    checkAll(h, runId);
  }, 120_000);

  it('answers for a run with sparse positions', async () => {
    const rnd = random(11);
    const runId = await h.newRun();
    h.commit(runId, [outcome(70001, rnd), outcome(5, rnd, 'sparse')], [], 0);
    await h.store.flush(runId);
    h.commit(runId, [outcome(900, rnd, 'sparse'), outcome(70000, rnd)], [], 0);
    await h.store.flush(runId);
    h.commit(runId, [outcome(1_000_000, rnd, 'sparse'), outcome(255, rnd), outcome(256, rnd)], [], 901);
    await h.store.flush(runId);
    checkAll(h, runId);
  }, 60_000);

  it('reads a position written twice (a group written again) as its last write says', async () => {
    const runId = await h.newRun();
    const first: RecordOutcome[] = Array.from({ length: 12 }, (_, seq) => ({
      seq,
      key: `k-${seq}`,
      status: seq % 3 === 0 ? 'failed' : 'succeeded',
      nodeId: 'map',
      batchNo: 1,
      attempts: 1,
      at: BASE_AT + seq,
      ...(seq % 3 === 0 ? { error: ERRORS[0] as RecordError, payload: { seq } } : {}),
      ...(seq === 4 ? { outputNode: 'out', output: { first: true } } : {}),
    }));
    h.commit(runId, first, [], 0);
    await h.store.flush(runId);
    // written again: 3 failed then succeeded, 4 succeeded then failed, 5 under another key, 6 at another node,
    // 9 failed at another node with another error, 10 filtered
    const again: RecordOutcome[] = [
      { seq: 3, key: 'k-3', status: 'succeeded', nodeId: 'map', batchNo: 2, attempts: 2, at: BASE_AT + 100 },
      {
        seq: 4,
        key: 'k-4',
        status: 'failed',
        nodeId: 'src',
        batchNo: 2,
        attempts: 3,
        at: BASE_AT + 101,
        error: ERRORS[1] as RecordError,
        payload: { again: 4 },
      },
      { seq: 5, key: 'k-5-renamed', status: 'succeeded', nodeId: 'map', batchNo: 2, attempts: 1, at: BASE_AT + 102 },
      { seq: 6, key: 'k-6', status: 'succeeded', nodeId: 'map2', batchNo: 2, attempts: 1, at: BASE_AT + 103 },
      {
        seq: 9,
        key: 'k-9',
        status: 'failed',
        nodeId: 'src',
        batchNo: 2,
        attempts: 1,
        at: BASE_AT + 104,
        error: ERRORS[2] as RecordError,
      },
      { seq: 10, key: 'k-10', status: 'filtered', nodeId: 'map', batchNo: 2, attempts: 1, at: BASE_AT + 105 },
    ];
    h.commit(runId, again, [], 2);
    await h.store.flush(runId);
    // two commits in one group that both settle a position (2; 300, in a bucket of its own): the later one stands
    const at300 = { seq: 300, key: 'k-300', batchNo: 3, attempts: 1, at: BASE_AT + 300 };
    h.commit(runId, [
      { seq: 2, key: 'k-2', status: 'failed', nodeId: 'src', batchNo: 3, attempts: 1, at: BASE_AT },
      { ...at300, status: 'failed', nodeId: 'src', error: ERRORS[1] as RecordError, payload: { at: 300 } },
    ]);
    h.commit(runId, [
      { seq: 2, key: 'k-2', status: 'succeeded', nodeId: 'map', batchNo: 3, attempts: 2, at: BASE_AT + 200 },
      { ...at300, status: 'succeeded', nodeId: 'map' },
    ]);
    await h.store.flush(runId);
    // a group of one: its row names one status and one node, neither the earlier write's
    h.commit(runId, [
      { seq: 11, key: 'k-11', status: 'filtered', nodeId: 'src', batchNo: 3, attempts: 1, at: BASE_AT },
    ]);
    await h.store.flush(runId);
    expect(
      (await h.runs.records(runId, { status: 'succeeded', nodeId: 'map', limit: 100 })).items.map((v) => v.seq),
    ).toEqual([1, 2, 3, 5, 7, 8, 300]);
    checkAll(h, runId);
    // the old key names nothing any more
    expect((await h.runs.records(runId, { key: 'k-5', limit: 10 })).items).toEqual([]);
  }, 60_000);
});

describe('history of a key across runs, and retention', () => {
  let h: Harness;
  beforeAll(() => {
    h = new Harness();
  });
  afterAll(() => h.close());

  const BIG = 'ключ-'.repeat(200_000).slice(0, 1_000_000);
  const UNICODE = ['заказ-1', '注文-1', '🚀-1', 'e\u0301', '\u00e9', 'a\u0308\u0323', '🇺🇦'];

  /** Every outcome stored at this key in the flow's runs not pruned, newest run first, by position. */
  function expectedHistory(flowId: string, key: string, limit: number): RecordOutcomeView[] {
    const pruned = new Set(
      (
        h.c.prepare('SELECT id FROM runs WHERE flow_id = ? AND pruned_at IS NOT NULL').pluck().all(flowId) as number[]
      ).map(String),
    );
    const ids = (h.c.prepare('SELECT id FROM runs WHERE flow_id = ? ORDER BY id DESC').pluck().all(flowId) as number[])
      .map(String)
      .filter((id) => !pruned.has(id));
    return ids
      .flatMap((id) =>
        h
          .sorted(id)
          .filter((o) => o.key === key)
          .map((o) => view(id, o)),
      )
      .slice(0, limit);
  }

  it('lists a key in every run of its flow, newest first, not those of another flow, exact keys only', async () => {
    const a = h.flow('flow-a');
    const b = h.flow('flow-b');
    const rnd = random(3);
    const runsA: string[] = [];
    for (let r = 0; r < 30; r++) {
      const runId = await h.newRun(a);
      runsA.push(runId);
      const keys = Array.from({ length: 40 }, (_, i) => `k-${i}`);
      keys[3] = 'shared';
      if (r % 4 === 0) keys[30] = 'shared'; // twice in some runs
      keys[10 + (r % UNICODE.length)] = UNICODE[r % UNICODE.length] as string;
      if (r === 12) keys[20] = BIG;
      const outcomes = shuffle(
        keys.map((k, seq) => outcome(seq * 13, rnd, k)),
        rnd,
      );
      h.commit(runId, outcomes.slice(0, 17));
      await h.store.flush(runId);
      h.commit(runId, outcomes.slice(17));
      await h.store.flush(runId);
    }
    for (let r = 0; r < 3; r++) {
      const runId = await h.newRun(b);
      h.commit(
        runId,
        ['shared', 'only-b', ...UNICODE, BIG].map((k, seq) => outcome(seq, rnd, k)),
      );
      await h.store.flush(runId);
    }
    for (const flowId of [a, b]) {
      for (const key of [
        'shared',
        'only-b',
        BIG,
        BIG.slice(0, -1),
        `${BIG}x`,
        ...UNICODE,
        'заказ',
        '🚀',
        'e',
        'k-1',
        'k-',
      ]) {
        for (const limit of [1, 5, 1000]) {
          const got = await h.runs.history(flowId, key, limit);
          expect(got, `${flowId} ${key.slice(0, 20)} ${limit}`).toEqual(expectedHistory(flowId, key, limit));
        }
      }
    }
    expect(await h.runs.history(a, 'shared', 1000)).toHaveLength(30 + 8);
    expect(await h.runs.history(a, 'only-b', 1000)).toEqual([]);
    expect(await h.runs.history(a, BIG, 1000)).toHaveLength(1);
    expect(await h.runs.history(b, BIG, 1000)).toHaveLength(3);
    expect((await h.runs.history(a, 'e\u0301', 1000)).every((v) => v.key === 'e\u0301')).toBe(true);
    // the same at the records of one run
    const run12 = runsA[12] as string;
    checkRecords(h, run12, [1, 50]);
    for (const key of [BIG, BIG.slice(0, -1), `${BIG}x`, ...UNICODE, 'e', 'заказ'])
      for (const limit of [1, 50])
        expect(await allPages(h, run12, { key, limit }), key.slice(0, 20)).toEqual(
          h
            .sorted(run12)
            .filter((o) => o.key === key)
            .map((o) => view(run12, o)),
        );
    expect(await allPages(h, run12, { key: BIG, limit: 1 })).toHaveLength(1);
  }, 120_000);

  it('prunes a run from all three tables, and lists it no more; other runs keep everything', async () => {
    const ids = h.c.prepare(`SELECT id FROM runs ORDER BY id`).pluck().all() as number[];
    h.c.prepare(`UPDATE runs SET status = 'succeeded'`).run();
    const result = prune(h.db, { days: 0, runsPerFlow: 20 }, Date.now() + 1000);
    expect(result.runs).toBe(10); // the ten oldest runs of flow A; flow B has three
    const pruned = new Set(
      (h.c.prepare('SELECT id FROM runs WHERE pruned_at IS NOT NULL').pluck().all() as number[]).map(String),
    );
    expect(pruned.size).toBe(10);
    for (const id of ids) {
      const runId = String(id);
      for (const table of ['outcome_packs', 'outcome_outputs', 'outcome_keys', 'outcome_details']) {
        const n = h.c.prepare(`SELECT COUNT(*) FROM ${table} WHERE run_id = ?`).pluck().get(id) as number;
        if (pruned.has(runId)) expect(n, `${table} of run ${runId}`).toBe(0);
        else if (table !== 'outcome_details') expect(n).toBeGreaterThan(0);
      }
      if (pruned.has(runId)) {
        expect((await h.runs.records(runId, { limit: 10 })).items).toEqual([]);
        expect((await h.runs.records(runId, { limit: 10, status: 'failed' })).items).toEqual([]);
        expect((await h.runs.records(runId, { limit: 10, key: 'shared' })).items).toEqual([]);
        h.models.set(runId, { outcomes: new Map(), collected: new Map(), lowWater: 0 });
      } else {
        expect(await allPages(h, runId, { limit: 1000 })).toEqual(h.sorted(runId).map((o) => view(runId, o)));
      }
    }
    for (const key of ['shared', BIG, ...UNICODE])
      for (const flowId of ['flow-a', 'flow-b'])
        expect(await h.runs.history(flowId, key, 1000)).toEqual(expectedHistory(flowId, key, 1000));
    expect(await h.runs.history('flow-a', 'shared', 1000)).toHaveLength(20 + 5);
  }, 60_000);
});

describe('query plans over a database with history', () => {
  let h: Harness;
  beforeAll(() => {
    h = new Harness();
  });
  afterAll(() => h.close());

  it('reads by one indexed lookup or range: history, records by key, status and node, the pack scan', async () => {
    const flowId = h.flow('busy');
    const rnd = random(5);
    const first = await h.newRun(flowId);
    for (let from = 0; from < 1000; from += 250) {
      h.commit(
        first,
        Array.from({ length: 250 }, (_, i) => outcome(from + i, rnd, from + i === 500 ? 'wanted' : `k-${from + i}`)),
        Array.from({ length: 5 }, (_, i) => ({ seq: from + i, key: `k-${from + i}`, nodeId: 'again', data: { i } })),
      );
      await h.store.flush(first);
    }
    // 199 more runs of the same flow, their rows copied from the first by SQL
    const c = h.c;
    const clone = [
      `INSERT INTO outcome_packs (run_id, bucket, part, count, statuses, nodes, base_at, base_batch, meta, keys)
         SELECT ?, bucket, part, count, statuses, nodes, base_at, base_batch, meta, keys FROM outcome_packs WHERE run_id = ?`,
      'INSERT INTO outcome_outputs (run_id, bucket, part, outputs) SELECT ?, bucket, part, outputs FROM outcome_outputs WHERE run_id = ?',
      'INSERT INTO outcome_keys (run_id, key, seq) SELECT ?, key, seq FROM outcome_keys WHERE run_id = ?',
      `INSERT INTO outcome_details (run_id, seq, status, key, node_id, batch_no, attempts, error_id, payload, at)
         SELECT ?, seq, status, key, node_id, batch_no, attempts, error_id, payload, at FROM outcome_details WHERE run_id = ?`,
      `INSERT INTO collected_records (run_id, node_id, seq, key, data)
         SELECT ?, node_id, seq, key, data FROM collected_records WHERE run_id = ?`,
    ].map((sql) => c.prepare(sql));
    const ids: string[] = [first];
    // one transaction around them all (the run queries answer at once on SQLite: nothing else runs meanwhile)
    c.exec('BEGIN');
    for (let r = 1; r < 200; r++) {
      const id = await h.newRun(flowId);
      ids.push(id);
      for (const s of clone) s.run(Number(id), Number(first));
      h.models.set(id, h.model(first));
    }
    c.exec('COMMIT');
    expect(c.prepare('SELECT COUNT(*) FROM outcome_keys').pluck().get()).toBe(200_000);

    // every statement the repository runs, with its arguments
    const seen: { sql: string; args: unknown[] }[] = [];
    const prepare = c.prepare.bind(c);
    type Run = (...args: unknown[]) => unknown;
    c.prepare = ((sql: string) => {
      const st = prepare(sql) as unknown as Record<string, Run>;
      for (const name of ['all', 'get', 'iterate', 'run']) {
        const f = (st[name] as Run).bind(st);
        st[name] = (...args: unknown[]) => {
          seen.push({ sql, args });
          return f(...args);
        };
      }
      return st;
    }) as unknown as typeof c.prepare;
    try {
      const repo = new SqliteRunQueries(h.db);
      const last = ids[ids.length - 1] as string;
      const history = await repo.history(flowId, 'wanted', 50);
      expect(history).toHaveLength(50);
      expect(history.map((v) => v.runId)).toEqual(ids.slice(-50).reverse());
      expect(history[0]).toEqual(view(last, h.model(last).outcomes.get(500) as RecordOutcome));
      await repo.records(last, { key: 'wanted', limit: 50 });
      await repo.records(last, { key: 'k-3', status: 'succeeded', limit: 50 });
      for (const status of STATUSES) {
        await repo.records(last, { status, limit: 50 });
        await repo.records(last, { status, limit: 50, cursor: 600 });
        await repo.records(last, { status, nodeId: 'map', limit: 50 });
      }
      await repo.records(last, { limit: 50 });
      await repo.records(last, { limit: 50, cursor: 700 });
      await repo.records(last, { nodeId: 'map2', limit: 50 });
      await repo.collected(last, { limit: 50 });
      await repo.collected(last, { limit: 50, cursor: 500 });
      await repo.collected(last, { limit: 50, nodeId: 'again', cursor: 10 });
      await repo.errorGroups(last, 10);
      await repo.failedForReplay(last, -1, 50);
      const retry = await repo.create({
        flowId,
        flowVersionId: null,
        flowName: 'busy',
        trigger: 'cli',
        retryOf: last,
        selection: [{ seq: 3 }, { seq: 500, payload: { x: 1 } }],
      });
      await repo.failedForReplay(last, -1, 50, retry);
      await repo.notFailed(last, [1, 2, 3]);
      await h.store.loadResume(last);
    } finally {
      c.prepare = prepare as typeof c.prepare;
    }
    const plans = new Map<string, string[]>();
    for (const { sql, args } of seen) {
      if (!/outcome_|collected_records|retry_selections|FROM runs/.test(sql) || /^\s*INSERT/.test(sql)) continue;
      const plan = (prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as { detail: string }[]).map((r) => r.detail);
      plans.set(sql, plan);
    }
    expect(plans.size).toBeGreaterThan(10);
    for (const [sql, plan] of plans) {
      // no table read whole: each is a SEARCH (an indexed lookup or range); a subquery's own rows
      // (a co-routine, bounded by its LIMIT) may be read in turn
      const subqueries = plan.flatMap((d) => /^CO-ROUTINE (\w+)/.exec(d)?.[1] ?? []);
      expect(
        plan.filter((d) => /^SCAN /.test(d) && d !== 'SCAN CONSTANT ROW' && !subqueries.includes(d.slice(5))),
        `${sql}\n${plan.join('\n')}`,
      ).toEqual([]);
      // a page is read in order from where it starts, not sorted out of every row of the run
      if (/LIMIT/.test(sql) && !/GROUP BY/.test(sql))
        expect(
          plan.filter((d) => d.startsWith('USE TEMP B-TREE')),
          `${sql}\n${plan.join('\n')}`,
        ).toEqual([]);
      for (const table of ['outcome_packs', 'outcome_outputs', 'outcome_keys', 'outcome_details']) {
        if (!sql.includes(table)) continue;
        expect(
          plan.some((d) => /^SEARCH /.test(d)),
          `${sql}\n${plan.join('\n')}`,
        ).toBe(true);
      }
    }
    const historyPlan = [...plans].find(([sql]) => sql.includes('runs_flow_kept'))?.[1] ?? [];
    expect(historyPlan.join('\n')).toMatch(/SEARCH r USING (COVERING )?INDEX runs_flow_kept \(flow_id=\?\)/);
    expect(historyPlan.join('\n')).toMatch(/SEARCH k USING PRIMARY KEY \(run_id=\? AND key=\?\)/);
  }, 120_000);
});
