import { type Connectors, startRun } from '@sluice/engine';
import { chain, flowOf, MemoryRunStore } from '@sluice/engine/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqlConnections } from '../connectors/sql/connections.js';
import { useSqlTestDatabases } from '../connectors/sql/test-databases.js';
import { fetchHttpClient } from '../connectors.js';
import { nodeRuntime, systemClock } from '../node-runtime.js';
import { MemoryExporter, type ReceivedSpan } from './test-support.js';
import { createTracing } from './tracing.js';

/**
 * SQL spans, on real databases: a PostgreSQL source read page by page, then per batch a lookup in
 * MariaDB and a write to it (two of the twenty rows refused by the table), traced as the server
 * traces a run. Each statement is a CLIENT span under its node's span (in its batch, or under the
 * run for a source's pages), with the database conventions' attributes.
 */

const dbs = useSqlTestDatabases();
let sql: SqlConnections;

beforeAll(async () => {
  sql = new SqlConnections((name) =>
    name === 'pg' ? dbs.postgres.config : name === 'my' ? dbs.mysql.config : undefined,
  );
  await dbs.postgres.client.query('CREATE TABLE orders (id bigint PRIMARY KEY, customer text)');
  await dbs.postgres.client.query(
    `INSERT INTO orders SELECT i, CASE WHEN i % 10 = 0 THEN NULL ELSE 'c' || (i % 3 + 1) END FROM generate_series(1, 20) i`,
  );
  await dbs.mysql.client.query('CREATE TABLE customers (code VARCHAR(10) PRIMARY KEY, region VARCHAR(20) NOT NULL)');
  await dbs.mysql.client.query("INSERT INTO customers VALUES ('c1', 'north'), ('c2', 'south'), ('c3', 'east')");
  await dbs.mysql.client.query(
    'CREATE TABLE copies (id BIGINT PRIMARY KEY, customer VARCHAR(10) NOT NULL, region VARCHAR(20))',
  );
});
afterAll(() => sql.close());

describe('SQL spans', () => {
  it('gives each statement a CLIENT span under its node, with the database, table, operation and rows', async () => {
    const exporter = new MemoryExporter();
    const tracing = createTracing({}, undefined, { exporter });
    const connectors: Connectors = {
      http: fetchHttpClient,
      connection: (name) => ({ name, baseUrl: name === 'pg' ? 'postgres://db/test' : 'mysql://db/test', headers: {} }),
      sql: tracing.wrapSql(sql, (name) => (name === 'pg' ? dbs.postgres.config : dbs.mysql.config)),
    };
    const nodes = [
      { id: 'start', type: 'manual' },
      { id: 'src', type: 'sql-source', params: { connection: 'pg', table: 'orders', keyColumn: 'id', pageSize: 8 } },
      { id: 'batch', type: 'batch', params: { size: 10 } },
      {
        id: 'look',
        type: 'sql-lookup',
        params: { connection: 'my', table: 'customers', keyColumn: 'code', field: 'customer', columns: ['region'] },
      },
      { id: 'write', type: 'sql-write', params: { connection: 'my', table: 'copies', keyColumns: ['id'] } },
      {
        id: 'gone',
        type: 'sql-lookup',
        params: { connection: 'my', table: 'no_such_table', keyColumn: 'code', field: 'id' },
      },
    ];
    const edges = [
      ...chain('start', 'src', 'batch', 'look', 'write'),
      // the rows the table refuses go on to a lookup the database refuses as a whole (no such table)
      ...chain('write:error', 'gone'),
    ];
    const flow = flowOf(nodes, edges);
    tracing.runStarted('r1', {
      flowId: 'f1',
      flowName: 'Copy orders',
      nodeTypes: new Map(nodes.map((n) => [n.id, n.type])),
      resumed: false,
    });
    const result = await startRun({
      runId: 'r1',
      flow,
      clock: systemClock,
      runtime: nodeRuntime,
      store: new MemoryRunStore(),
      connectors,
      onEvent: (event) => tracing.event(event),
    }).done;
    tracing.runEnded('r1', { status: result.status, counts: result.counts, nodeCounts: result.nodeCounts });
    expect(result.counts).toMatchObject({ read: 20, succeeded: 18, failed: 2 });
    await tracing.flush();
    const spans = exporter.spans;
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const parentName = (s: ReceivedSpan) => byId.get(s.parentSpanId ?? '')?.name;
    const grandparentName = (s: ReceivedSpan) => {
      const parent = byId.get(s.parentSpanId ?? '');
      return parent ? parentName(parent) : undefined;
    };
    const named = (name: string) => spans.filter((s) => s.name === name);

    // the source's pages: 8 + 8 + 4 rows (a short page is the last), under the source's span in the run
    const pages = named('SELECT orders');
    expect(pages.map((p) => p.attributes['db.response.returned_rows'])).toEqual([8, 8, 4]);
    for (const page of pages) {
      expect(page.kind).toBe(3);
      expect([parentName(page), grandparentName(page)]).toEqual(['node src', 'run Copy orders']);
      expect(page.attributes).toMatchObject({
        'db.system.name': 'postgresql',
        'db.namespace': dbs.postgres.config.database,
        'db.collection.name': 'orders',
        'db.operation.name': 'SELECT',
        'server.address': dbs.postgres.config.host,
        'server.port': dbs.postgres.config.port,
        'sluice.connection': 'pg',
      });
    }

    // per batch of ten: one lookup and one write, under their node's span in that batch
    const lookups = named('SELECT customers');
    const writes = named('INSERT copies');
    expect(lookups).toHaveLength(2);
    expect(writes).toHaveLength(2);
    for (const s of [...lookups, ...writes]) {
      expect(grandparentName(s)).toBe('batch');
      expect(s.attributes).toMatchObject({ 'db.system.name': 'mysql', 'db.namespace': dbs.mysql.config.database });
    }
    expect(lookups.map(parentName)).toEqual(['node look', 'node look']);
    expect(lookups.map((s) => s.attributes['db.response.returned_rows'])).toEqual([3, 3]);
    expect(writes.map(parentName)).toEqual(['node write', 'node write']);
    // each batch has one row without a customer, which the table refuses
    expect(
      writes.map((s) => [s.attributes['db.operation.batch.size'], s.attributes['sluice.sql.refused_rows']]),
    ).toEqual([
      [10, 1],
      [10, 1],
    ]);
    expect(writes.every((s) => s.status === undefined)).toBe(true);

    // a statement the database refuses as a whole: an error span with its kind
    const refused = named('SELECT no_such_table');
    expect(refused.length).toBeGreaterThan(0);
    expect(refused[0]?.attributes['error.type']).toBe('statement');
    expect(refused[0]?.status?.code).toBe(2);
    await tracing.shutdown();
  });
});
