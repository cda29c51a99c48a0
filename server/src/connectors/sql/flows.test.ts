import { type Checkpoint, type Connectors, startRun } from '@sluice/engine';
import { chain, flowOf, MemoryRunStore, resumeFrom } from '@sluice/engine/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchHttpClient } from '../../connectors.js';
import { nodeRuntime, systemClock } from '../../node-runtime.js';
import { SqlConnections } from './connections.js';
import { useSqlTestDatabases } from './test-databases.js';

const dbs = useSqlTestDatabases();
let sql: SqlConnections;
let connectors: Connectors;
/** Where the connection "flaky" points: nowhere at first, the MariaDB database once a test says so. */
let flakyUp = false;
/** A MariaDB user whose password the connection "locked" gets wrong. */
const LOCKED_USER = `sluice_${Math.random().toString(36).slice(2, 10)}`;

beforeAll(async () => {
  sql = new SqlConnections((name) => {
    if (name === 'pg') return dbs.postgres.config;
    if (name === 'my') return dbs.mysql.config;
    if (name === 'flaky') return flakyUp ? dbs.mysql.config : { ...dbs.mysql.config, port: 1 };
    if (name === 'locked') return { ...dbs.mysql.config, user: LOCKED_USER, password: 'wrong' };
    return undefined;
  });
  connectors = {
    http: fetchHttpClient,
    connection: (name) => ({
      name,
      baseUrl: name === 'pg' ? 'postgres://db/test' : 'mysql://db/test',
      headers: {},
      ...(name === 'flaky' ? { breaker: { failureThreshold: 2, cooldownMs: 300 } } : {}),
    }),
    sql,
  };
  await dbs.postgres.client.query(
    'CREATE TABLE orders (id bigint PRIMARY KEY, customer text, amount numeric(10,2), changed timestamptz NOT NULL)',
  );
  await dbs.postgres.client.query(
    `INSERT INTO orders SELECT i, CASE WHEN i % 10 = 0 THEN NULL ELSE 'c' || (i % 4) END, i * 1.5, '2026-01-01T00:00:00Z'::timestamptz + i * interval '1 minute' FROM generate_series(1, 45) i`,
  );
  await dbs.mysql.client.query('CREATE TABLE customers (code VARCHAR(10) PRIMARY KEY, region VARCHAR(20) NOT NULL)');
  await dbs.mysql.client.query("INSERT INTO customers VALUES ('c1', 'north'), ('c2', 'south'), ('c3', 'east')");
  await dbs.mysql.client.query(
    'CREATE TABLE copies (id BIGINT PRIMARY KEY, customer VARCHAR(10) NOT NULL, region VARCHAR(20), amount DECIMAL(10,2), writes INT NOT NULL DEFAULT 0)',
  );
});
afterAll(() => sql.close());

const source = (params: Record<string, unknown> = {}) => ({
  id: 'src',
  type: 'sql-source',
  params: { connection: 'pg', table: 'orders', keyColumn: 'id', pageSize: 10, ...params },
});

async function run(
  nodes: { id: string; type: string; params?: Record<string, unknown> }[],
  options: { resume?: Checkpoint; watermarks?: Record<string, string> } = {},
) {
  const store = new MemoryRunStore();
  const result = await startRun({
    runId: 'r',
    flow: flowOf([{ id: 'start', type: 'manual' }, ...nodes]),
    clock: systemClock,
    runtime: nodeRuntime,
    store,
    connectors,
    ...(options.resume ? { resume: resumeFrom(options.resume) } : {}),
    ...(options.watermarks ? { watermarks: options.watermarks } : {}),
  }).done;
  return { result, store, keys: store.collected.map((c) => c.key) };
}

describe('sql-source', () => {
  it('reads every row once in key order, a page at a time, each page checkpointed by the key it starts after', async () => {
    const { result, store, keys } = await run([
      source(),
      { id: 'batch', type: 'batch', params: { size: 5 } },
      { id: 'out', type: 'collect' },
    ]);
    expect(result.status).toBe('succeeded');
    expect(keys).toEqual(Array.from({ length: 45 }, (_, i) => String(i + 1)));
    expect(store.collected[0]?.data).toEqual({
      id: 1,
      customer: 'c1',
      amount: '1.50',
      changed: '2026-01-01 00:01:00+00',
    });
    const cursors = store.commits.map((c) => c.checkpoint.position?.cursor).filter((c) => c !== undefined);
    expect(new Set(cursors.map((c) => JSON.stringify(c)))).toEqual(
      new Set([null, 10, 20, 30, 40].map((after) => JSON.stringify({ after }))),
    );
  });

  it('resumes from the checkpoint’s page: the rows after its key, the settled ones skipped', async () => {
    const resume: Checkpoint = {
      version: 1,
      lowWater: 23,
      nextBatch: 5,
      sourcesDone: [],
      position: { nodeId: 'src', cursor: { after: 20 }, firstSeq: 20 },
      nodeState: {},
      breakers: {},
    };
    const { result, keys } = await run([source(), { id: 'out', type: 'collect' }], { resume });
    expect(result.status).toBe('succeeded');
    expect(keys).toEqual(Array.from({ length: 22 }, (_, i) => String(i + 24)));
  });

  it('reads only rows changed after the stored watermark, and reports the largest read', async () => {
    const flowNodes = [source({ incremental: { column: 'changed' } }), { id: 'out', type: 'collect' }];
    const first = await run(flowNodes);
    expect(first.result.watermarks).toEqual({ src: '2026-01-01 00:45:00+00' });
    const none = await run(flowNodes, { watermarks: first.result.watermarks ?? {} });
    expect(none.keys).toEqual([]);
    await dbs.postgres.client.query(`UPDATE orders SET changed = changed + interval '1 day' WHERE id IN (7, 31)`);
    const second = await run(flowNodes, { watermarks: first.result.watermarks ?? {} });
    expect(second.keys).toEqual(['7', '31']);
    expect(second.result.watermarks).toEqual({ src: '2026-01-02 00:31:00+00' });
  });

  it('fails the run naming the table when the table is not there', async () => {
    const { result } = await run([source({ table: 'missing' }), { id: 'out', type: 'collect' }]);
    expect(result.status).toBe('failed');
    expect(result.error).toMatch(/source "src" could not read table missing: relation "missing" does not exist/);
  });
});

describe('sql-lookup and sql-write', () => {
  it('looks customers up per batch, writes them, and fails alone the rows the target refuses', async () => {
    const nodes = [
      source({ table: undefined, query: 'SELECT id, customer, amount FROM orders WHERE id <= 20' }),
      { id: 'batch', type: 'batch', params: { size: 8 } },
      {
        id: 'lookup',
        type: 'sql-lookup',
        params: { connection: 'my', table: 'customers', keyColumn: 'code', field: 'customer', columns: ['region'] },
      },
      {
        id: 'write',
        type: 'sql-write',
        params: { connection: 'my', table: 'copies', keyColumns: ['id'], counterColumn: 'writes' },
      },
      { id: 'failed', type: 'collect' },
    ];
    const edges = [...chain('start', 'src', 'batch', 'lookup', 'write'), ...chain('write:error', 'failed')];
    const runOnce = async () => {
      const store = new MemoryRunStore();
      const flow = flowOf([{ id: 'start', type: 'manual' }, ...nodes], edges);
      const result = await startRun({ runId: 'r', flow, clock: systemClock, runtime: nodeRuntime, store, connectors })
        .done;
      return { result, store };
    };
    const { result, store } = await runOnce();
    expect(result.counts).toMatchObject({ read: 20, succeeded: 18, failed: 2 });
    const failed = store.outcomes.filter((o) => o.status === 'failed');
    expect(failed.map((o) => o.key)).toEqual(['10', '20']);
    expect(failed[0]?.error?.message).toBe("Column 'customer' cannot be null");
    expect(failed[0]?.nodeId).toBe('write');
    const [rows] = await dbs.mysql.client.query('SELECT id, customer, region, writes FROM copies ORDER BY id');
    const written = rows as { id: number; customer: string; region: string | null; writes: number }[];
    expect(written).toHaveLength(18);
    expect(written[0]).toEqual({ id: 1, customer: 'c1', region: 'north', writes: 1 });
    expect(written.find((r) => r.id === 4)).toEqual({ id: 4, customer: 'c0', region: null, writes: 1 });
    // the same records again: the upsert changes nothing, so no counter moves
    await runOnce();
    const [again] = await dbs.mysql.client.query('SELECT SUM(writes) AS total, COUNT(*) AS n FROM copies');
    expect(again).toEqual([{ total: '18', n: 18 }]);
  });
});

describe('sql-lookup', () => {
  it('puts the match at a field (null when none), or fails a record without one, as configured', async () => {
    const records = [{ id: 1, customer: 'c2' }, { id: 2, customer: 'zz' }, { id: 3 }];
    const lookup = (params: Record<string, unknown>) =>
      run([
        { id: 'src', type: 'inline-records', params: { records, keyField: 'id' } },
        {
          id: 'lookup',
          type: 'sql-lookup',
          params: { connection: 'my', table: 'customers', keyColumn: 'code', field: 'customer', ...params },
        },
        { id: 'out', type: 'collect' },
      ]);
    const into = await lookup({ into: 'account' });
    expect(into.store.collected.map((c) => c.data)).toEqual([
      { id: 1, customer: 'c2', account: { code: 'c2', region: 'south' } },
      { id: 2, customer: 'zz', account: null },
      { id: 3, account: null },
    ]);
    const strict = await lookup({ onMissing: 'fail', columns: ['region'] });
    expect(strict.result.counts).toMatchObject({ read: 3, succeeded: 1, failed: 2 });
    expect(strict.store.collected.map((c) => c.data)).toEqual([{ id: 1, customer: 'c2', region: 'south' }]);
    expect(strict.store.outcomes.filter((o) => o.status === 'failed').map((o) => o.error?.message)).toEqual([
      'no row of customers has code = zz',
      'the record has no value at "customer" to look up',
    ]);
  });
});

describe('sql-write and field names', () => {
  it('fails alone a record with a field that is not a SQL name, naming it; the others are written', async () => {
    await dbs.mysql.client.query('CREATE TABLE named (id BIGINT PRIMARY KEY, customer VARCHAR(10))');
    const records = [
      { id: 1, customer: 'a' },
      { id: 2, customer: 'b', 'customer; DROP TABLE named': 'x' },
      { id: 3, customer: 'c' },
    ];
    const { result, store } = await run([
      { id: 'src', type: 'inline-records', params: { records, keyField: 'id' } },
      { id: 'write', type: 'sql-write', params: { connection: 'my', table: 'named', keyColumns: ['id'] } },
    ]);
    expect(result.counts).toMatchObject({ read: 3, succeeded: 2, failed: 1 });
    expect(store.outcomes.find((o) => o.status === 'failed')?.error).toEqual({
      message:
        'field "customer; DROP TABLE named" is not a plain SQL column name (letters, digits and _); list the columns to write',
      code: 'sql_column_name',
    });
    const [rows] = await dbs.mysql.client.query('SELECT id FROM named ORDER BY id');
    expect(rows).toEqual([{ id: 1 }, { id: 3 }]);
  });
});

describe('a database that does not answer', () => {
  it('opens the connection’s breaker: records wait instead of failing, and are written once it answers again', async () => {
    await dbs.mysql.client.query('CREATE TABLE later (id BIGINT PRIMARY KEY, customer VARCHAR(10))');
    const store = new MemoryRunStore();
    const flow = flowOf([
      { id: 'start', type: 'manual' },
      source({ columns: ['id', 'customer'], pageSize: 50 }),
      {
        id: 'write',
        type: 'sql-write',
        params: {
          connection: 'flaky',
          table: 'later',
          keyColumns: ['id'],
          retry: { maxAttempts: 3, initialDelayMs: 10, maxDelayMs: 10 },
        },
      },
    ]);
    flakyUp = false;
    const handle = startRun({ runId: 'r', flow, clock: systemClock, runtime: nodeRuntime, store, connectors });
    const deadline = Date.now() + 4_000;
    while (!store.waits.some((w) => w?.kind === 'breaker') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    expect(store.waits.find((w) => w?.kind === 'breaker')).toMatchObject({
      kind: 'breaker',
      connection: 'flaky',
      nodeId: 'write',
    });
    flakyUp = true;
    const result = await handle.done;
    expect(result.status).toBe('succeeded');
    expect(result.counts).toMatchObject({ read: 45, succeeded: 45, failed: 0 });
    const [rows] = await dbs.mysql.client.query('SELECT COUNT(*) AS n FROM later');
    expect(rows).toEqual([{ n: 45 }]);
  });
});

describe('a database that refuses the credentials', () => {
  it('fails the run before it reads anything, naming the connection and the database’s reason', async () => {
    await dbs.mysql.client.query(`CREATE USER '${LOCKED_USER}'@'%' IDENTIFIED BY 'right'`);
    try {
      const store = new MemoryRunStore();
      const flow = flowOf([
        { id: 'start', type: 'manual' },
        source({ columns: ['id'] }),
        { id: 'write', type: 'sql-write', params: { connection: 'locked', table: 'later', keyColumns: ['id'] } },
      ]);
      const checked: Connectors = { ...connectors, check: (name) => sql.check(name) };
      const result = await startRun({
        runId: 'r',
        flow,
        clock: systemClock,
        runtime: nodeRuntime,
        store,
        connectors: checked,
      }).done;
      expect(result.status).toBe('failed');
      expect(result.error).toMatch(
        new RegExp(
          `^connection "locked": the database refused the credentials \\(MySQL: Access denied for user '${LOCKED_USER}'.* — check its user and password$`,
        ),
      );
      expect(result.counts.read).toBe(0);
    } finally {
      await dbs.mysql.client.query(`DROP USER IF EXISTS '${LOCKED_USER}'@'%'`);
    }
  });
});
