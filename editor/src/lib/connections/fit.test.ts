import type { ConnectionView } from '@sluice/shared';
import { describe, expect, it } from 'vitest';
import { connectionsFor } from './fit';

const conn = (name: string, builtIn: boolean): ConnectionView => ({
  name,
  baseUrl: `http://127.0.0.1/${name}`,
  auth: 'bearer',
  username: null,
  headerName: null,
  secret: '…abcd',
  checkPath: null,
  breaker: null,
  limits: { maxConcurrent: null, maxPerSecond: null, adaptive: false },
  builtIn,
  status: null,
});

const all = [conn('erp-sandbox', true), conn('maintenance-sandbox', true), conn('zeta', false), conn('acme', false)];
const names = (c: { builtIn: ConnectionView[]; stored: ConnectionView[] }) => [
  c.builtIn.map((x) => x.name),
  c.stored.map((x) => x.name),
];

describe('connections that fit a node', () => {
  it('HTTP nodes: every connection, built-in first, by name', () => {
    expect(names(connectionsFor('http-write', all))).toEqual([
      ['erp-sandbox', 'maintenance-sandbox'],
      ['acme', 'zeta'],
    ]);
    expect(names(connectionsFor('http-source', all))).toEqual(names(connectionsFor('http-write', all)));
  });

  it('entity nodes: the built-in sandbox of their side, and every stored connection', () => {
    expect(names(connectionsFor('entity-source', all))).toEqual([['maintenance-sandbox'], ['acme', 'zeta']]);
    expect(names(connectionsFor('entity-write', all))).toEqual([['erp-sandbox'], ['acme', 'zeta']]);
  });

  it('SQL nodes: stored database connections only; other nodes never offer them', () => {
    const withDatabases = [
      ...all,
      { ...conn('warehouse', false), baseUrl: 'postgres://db.example:5432/warehouse' },
      { ...conn('shop', false), baseUrl: 'mysql://127.0.0.1/shop' },
    ];
    expect(names(connectionsFor('sql-source', withDatabases))).toEqual([[], ['shop', 'warehouse']]);
    expect(names(connectionsFor('sql-write', withDatabases))).toEqual([[], ['shop', 'warehouse']]);
    expect(names(connectionsFor('http-write', withDatabases))).toEqual([
      ['erp-sandbox', 'maintenance-sandbox'],
      ['acme', 'zeta'],
    ]);
  });
});
