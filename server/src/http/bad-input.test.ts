import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DEMO_FLOW_FILE } from '../demo.js';
import type { PostgresStorage } from '../storage/postgres/index.js';
import { sqliteClient } from '../storage/sqlite/index.js';
import { SECRET_HEADER, SIGNATURE_HEADER, signBody } from '../webhooks/webhooks.js';
import { type AppDeps, createApp } from './app.js';
import type { RegisteredRoute } from './spec.js';
import { openTestSluice, TEST_TOKEN, type TestSluice } from './test-support.js';

/**
 * Property-based bad-input tests: every declared API route gets random path parameters, query strings,
 * headers and bodies. Whatever comes in, the server answers below 500; a 4xx is a JSON error with a code
 * and a message; a request without a valid token is answered 401; and a request answered 4xx changes
 * no stored data.
 */

/** Requests per route; the whole file stays well under a minute on a slow two-core machine. */
const RUNS = 60;
const HOOK_RUNS = 200;
/** Shrinking replays requests; a bounded number keeps a failing run short. */
const SHRINKS = 200;
/** FUZZ_SEED tries another seed, to explore; the suite itself always runs with 42. */
const SEED = Number(process.env.FUZZ_SEED ?? 42);

// Registering the routes touches no dependency (handlers use them only when called), so the routes are
// known when tests are collected and each gets its own test; a test below checks they are the real app's.
const declared: RegisteredRoute[] = createApp({} as AppDeps).routes;
/** The routes that need no token (liveness, readiness). */
const open = new Set(declared.filter((r) => r.spec.auth === false).map((r) => r.path));

const CONNECTION = { name: 'fuzz-conn', baseUrl: 'http://127.0.0.1:9', auth: 'bearer', secret: 's3cret-value' };

let t: TestSluice;
let seeds: {
  flowId: string;
  hookFlowId: string;
  runId: string;
  recordKey: string;
  tokenId: string;
  unpublishedHookId: string;
  disabledHookId: string;
  ruleId: string;
  userId: string;
  sessionId: string;
};
/** The stored data as it was after the last request that was allowed to change it. */
let baseline: Record<string, string> | undefined;
/** The connection's write count when `baseline` was taken. */
let baselineWrites: number | undefined = -1;
const sent = new Map<string, number>();
const answered = new Map<string, Map<number, number>>();

type Json = Record<string, unknown>;

const demo = () => JSON.parse(readFileSync(DEMO_FLOW_FILE, 'utf8')) as Json & { nodes: { id: string; params: Json }[] };

const HOOK_LIMIT = 65_536;
const hookFlow = (name: string) => ({
  format: 1,
  name,
  nodes: [
    { id: 'hook', type: 'webhook', params: { maxBodyBytes: HOOK_LIMIT } },
    { id: 'out', type: 'collect' },
  ],
  edges: [{ source: 'hook', target: 'out' }],
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function call<T>(method: string, path: string, body?: unknown, expected = 200): Promise<T> {
  const res = await t.app.request(
    path,
    body === undefined
      ? { method }
      : { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) },
  );
  const text = await res.text();
  if (res.status !== expected) throw new Error(`seeding: ${method} ${path} answered ${res.status}: ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

// ---------------------------------------------------------------------------------------------------
// Stored data

const TABLES: Record<string, string> = {
  flows: 'id',
  flow_versions: 'id',
  runs: 'id',
  outcome_packs: 'id',
  outcome_outputs: 'id',
  outcome_keys: 'run_id, key, seq',
  outcome_details: 'run_id, seq',
  batches: 'run_id, batch_no',
  connections: 'name',
  api_tokens: 'id',
  webhooks: 'id',
  schedule_state: 'flow_id, node_id',
  run_inputs: 'run_id, seq',
  collected_records: 'run_id, node_id, seq',
  error_messages: 'id',
  alert_rules: 'id',
  alert_deliveries: 'id',
  users: 'id',
  user_sessions: 'id',
};

/** A table's rows in key order, read past the port from the store under test (SQLite or PostgreSQL). */
async function tableRows(table: string, key: string): Promise<unknown[]> {
  const storage = t.parts.storage;
  const text = `SELECT * FROM ${table} ORDER BY ${key}`;
  if (storage.kind === 'postgres') return (await (storage as PostgresStorage).db.$client.query(text)).rows;
  return sqliteClient(storage).$client.prepare(text).all();
}

/** A digest of every table: its row count and a hash of all its rows in key order. */
async function snapshot(): Promise<Record<string, string>> {
  const digests: [string, string][] = [];
  for (const [table, key] of Object.entries(TABLES)) {
    const rows = await tableRows(table, key);
    digests.push([table, `${rows.length} rows, ${createHash('sha1').update(JSON.stringify(rows)).digest('hex')}`]);
  }
  return Object.fromEntries(digests);
}

/**
 * Rows written so far through the server's one SQLite connection (every part of it shares that
 * connection): while it stays the same, nothing was stored and the digest need not be taken again.
 * PostgreSQL keeps no such count for one database that is exact at once: there, the digest is
 * always taken.
 */
const writes = (): number | undefined =>
  t.parts.storage.kind === 'sqlite'
    ? (sqliteClient(t.parts.storage).$client.prepare('SELECT total_changes()').pluck().get() as number)
    : undefined;

/** The stored data now: the baseline when nothing was written since, else a new digest. */
const current = async () => {
  const n = writes();
  return baseline && n !== undefined && n === baselineWrites ? baseline : await snapshot();
};

/** After a request that may have changed things: no run left going, the fuzzed connection back, a new baseline. */
async function settle(): Promise<void> {
  const { runner } = t.parts;
  const deadline = Date.now() + 30_000;
  for (;;) {
    const open =
      // a run still held counts as open: its process gives the lease back just after it ends
      (
        (await tableRows("runs WHERE status IN ('queued', 'running', 'paused') OR lease_owner IS NOT NULL", 'id')) as {
          id: number | string;
        }[]
      ).map((r) => Number(r.id));
    if (!open.length && runner.activeCount === 0) break;
    if (Date.now() > deadline) throw new Error(`runs ${open.join(', ')} do not finish after being cancelled`);
    for (const id of open) {
      try {
        await runner.cancel(String(id));
      } catch {
        // finishing on its own
      }
    }
    await Promise.race([Promise.all(open.map((id) => runner.wait(String(id)))), sleep(open.length ? 1000 : 10)]);
  }
  await t.parts.store.flush();
  if (!(await t.parts.storage.connections.find(CONNECTION.name))) {
    await call('POST', '/api/connections', CONNECTION, 201);
  }
  baseline = await current();
  baselineWrites = writes();
}

// ---------------------------------------------------------------------------------------------------
// Sending one request and judging the answer

class Attempt {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly headers: Record<string, string>,
    readonly body: string | undefined,
    /** Whether the request carries a valid token. */
    readonly authorized: boolean,
  ) {}

  [fc.toStringMethod](): string {
    const cut = (s: string) => (s.length > 200 ? `${s.slice(0, 200)}…(${s.length} chars)` : s);
    const body = this.body === undefined ? 'no body' : `body ${JSON.stringify(cut(this.body))}`;
    return `${this.method} ${cut(this.path)} headers ${cut(JSON.stringify(this.headers))} ${body}`;
  }
}

/** The path as the router sees it: resolved by the URL parser, then percent-decoded like Hono does. */
function routedPath(url: string): string {
  return new URL(url).pathname.replace(/(%[0-9A-Fa-f]{2})+/g, (m) => {
    try {
      return decodeURI(m);
    } catch {
      return m;
    }
  });
}

async function exercise(label: string, a: Attempt): Promise<number> {
  sent.set(label, (sent.get(label) ?? 0) + 1);
  const request = new Request(`http://localhost${a.path}`, {
    method: a.method,
    headers: a.headers,
    ...(a.body === undefined ? {} : { body: a.body }),
  });
  const routed = routedPath(request.url);
  const res = await t.raw.request(request);
  const byStatus = answered.get(label) ?? new Map<number, number>();
  answered.set(label, byStatus.set(res.status, (byStatus.get(res.status) ?? 0) + 1));
  const type = res.headers.get('content-type') ?? '';
  let text = '';
  if (type.startsWith('text/event-stream')) await res.body?.cancel();
  else text = await res.text();
  const after = res.status >= 400 ? await current() : undefined;
  const unchanged = after !== undefined && JSON.stringify(after) === JSON.stringify(baseline);
  const changed = after !== undefined && !unchanged ? ' (and stored data changed)' : '';
  const context = `${a.method} ${a.path.slice(0, 200)} answered ${res.status}${changed}: ${text.slice(0, 500)}`;
  try {
    expect(res.status, context).toBeLessThan(500);
    if (routed.startsWith('/api/') && !open.has(routed) && !a.authorized) {
      expect(res.status, `without a valid token: ${context}`).toBe(401);
    }
    // outside /api and /hooks/<id> (a path that '..' took elsewhere) no route is declared: Hono's plain 404 is fine
    if (res.status >= 400 && (routed.startsWith('/api/') || /^\/hooks\/[^/]+$/.test(routed))) {
      expect(type, context).toMatch(/^application\/json/);
      let body: { error?: { code?: unknown; message?: unknown } } = {};
      expect(() => {
        body = JSON.parse(text) as typeof body;
      }, context).not.toThrow();
      const { code, message } = body.error ?? {};
      expect(typeof code === 'string' && code.length > 0, `error.code, a non-empty string: ${context}`).toBe(true);
      expect(typeof message === 'string' && message.length > 0, `error.message, a non-empty string: ${context}`).toBe(
        true,
      );
    }
    if (after) expect(after, `a refused request changed stored data: ${context}`).toEqual(baseline);
  } finally {
    // a successful request may change data (and start runs); so may a failing one: start from the new state
    if (!unchanged) await settle();
  }
  return res.status;
}

// ---------------------------------------------------------------------------------------------------
// Generators

/** Replaced, in the JSON text of a body, by deeply nested arrays or objects and by numbers JSON cannot hold. */
const DEEP = '\u0000deep';
const HUGE = '\u0000huge';
const DEPTHS = [3, 1000, 6000, 20_000, 100_000];
const HUGES = ['1e400', '-1e400', '1e-400', '123456789012345678901234567890', '9007199254740993', '-0', '0.1e1'];
const nested = (depth: number, kind: boolean) =>
  kind ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}0${'}'.repeat(depth)}`;

const fill = (json: string, depth: number, arrays: boolean, huge: string) =>
  json.replaceAll(JSON.stringify(DEEP), nested(depth, arrays)).replaceAll(JSON.stringify(HUGE), huge);

/** Replaces lone surrogates, which no URL can carry. */
const wellFormed = (s: string) =>
  s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
const enc = (s: string) => encodeURIComponent(wellFormed(s));

const WEIRD = [
  '',
  ' ',
  '-1',
  '0',
  '1',
  '1.5',
  '1e400',
  '-1e400',
  'NaN',
  'Infinity',
  '9'.repeat(40),
  '9999999999999999',
  '0x1f',
  'null',
  'undefined',
  'true',
  '[]',
  '{}',
  '../',
  '..',
  '%00',
  '\u0000',
  'ü',
  '😀',
  '\u202e',
  "'; DROP TABLE runs; --",
  '__proto__',
  'constructor',
  'a'.repeat(5000),
];

/** Path segments sent as they are (not percent-encoded). */
const RAW_SEGMENTS = [
  '..',
  '.',
  '../',
  '..%2F',
  '%2e%2e',
  '%2E%2E%2F',
  '%00',
  '%',
  '%zz',
  '%E0%A4%A',
  '%C0%AE',
  '%2F',
  '%252F',
  '//',
  ';',
  '*',
  ' ',
  'ü',
  '😀',
  '\u0000',
  '?x=1',
  '#frag',
  '..;',
  '\\..\\',
  '<script>',
];

const text = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...WEIRD) },
  { weight: 2, arbitrary: fc.string({ maxLength: 30 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 30 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
  { weight: 1, arbitrary: fc.integer().map(String) },
  { weight: 1, arbitrary: fc.double().map(String) },
  { weight: 1, arbitrary: fc.string({ minLength: 1000, maxLength: 3000 }) },
);

/** Any value, mostly wrong for whatever field it lands in. */
const junk: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  {
    weight: 3,
    arbitrary: fc.constantFrom<unknown>(
      null,
      true,
      false,
      0,
      -1,
      1.5,
      1e308,
      -1e308,
      2 ** 53 + 1,
      '',
      ' ',
      '\u0000',
      'ü😀\u202e',
      'a'.repeat(20_000),
      [],
      {},
      [[[]]],
      { '': null },
      [{}],
    ),
  },
  { weight: 1, arbitrary: fc.constantFrom(DEEP, HUGE) },
  { weight: 1, arbitrary: text },
);

interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  maxItems?: number;
  pattern?: string;
}

const jsonSchema = (schema: z.ZodType) =>
  z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as unknown as JsonSchema;

const clamp = (n: number) => Math.max(-1_000_000, Math.min(1_000_000, n));

/**
 * Values shaped by a JSON schema. Plausible ones follow it (enum values, lengths and bounds within range,
 * patterns, required keys); with `wrong`, every field may instead be junk, just out of range, or missing,
 * and objects may carry an unknown key.
 */
function shaped(node: JsonSchema, wrong: boolean, depth = 0): fc.Arbitrary<unknown> {
  const options: fc.Arbitrary<unknown>[] = [];
  const literals = [...(node.enum ?? []), ...('const' in node ? [node.const] : [])];
  if ('default' in node) literals.push(node.default);
  if (literals.length) options.push(fc.constantFrom(...literals));
  for (const sub of [...(node.anyOf ?? []), ...(node.oneOf ?? [])]) options.push(shaped(sub, wrong, depth));
  const types = [node.type ?? []].flat();
  if (types.includes('string') && !node.enum) {
    const min = node.minLength ?? 0;
    const max = Math.min(node.maxLength ?? 30, min + 30);
    if (node.pattern?.includes('https?')) options.push(fc.webUrl(), fc.constant(CONNECTION.baseUrl));
    else if (node.pattern) {
      try {
        options.push(fc.stringMatching(new RegExp(node.pattern)));
      } catch {
        options.push(fc.string({ minLength: min, maxLength: max }));
      }
    } else options.push(fc.string({ minLength: min, maxLength: max }));
    if (wrong) {
      const edges = ['', 'a'.repeat(Math.max(0, min - 1))];
      if (node.maxLength !== undefined) edges.push('a'.repeat(node.maxLength), 'a'.repeat(node.maxLength + 1));
      options.push(fc.constantFrom(...edges));
    }
  }
  if (types.includes('integer') || types.includes('number')) {
    const min = clamp(node.minimum ?? node.exclusiveMinimum ?? -1000);
    const max = clamp(node.maximum ?? node.exclusiveMaximum ?? 1000);
    options.push(fc.integer({ min, max }));
    if (wrong) {
      const bounds = [node.minimum, node.maximum, node.exclusiveMinimum, node.exclusiveMaximum].filter(
        (b): b is number => b !== undefined,
      );
      options.push(fc.constantFrom(0, 1, ...bounds.flatMap((b) => [b - 1, b + 1, b + 0.5])));
    }
  }
  if (types.includes('boolean')) options.push(fc.boolean());
  if (types.includes('null')) options.push(fc.constant(null));
  if (node.properties && depth < 3) {
    const props = Object.fromEntries(Object.entries(node.properties).map(([k, v]) => [k, shaped(v, wrong, depth + 1)]));
    const record = fc.record(props, { requiredKeys: wrong ? [] : ((node as { required?: string[] }).required ?? []) });
    options.push(
      wrong
        ? fc
            .tuple(record, fc.option(fc.tuple(fc.oneof(fc.string({ maxLength: 10 }), fc.constant('__proto__')), junk)))
            .map(([value, extra]) => (extra ? { ...value, [extra[0]]: extra[1] } : value))
        : record,
    );
  } else if (types.includes('object') && depth < 3) {
    const values =
      typeof node.additionalProperties === 'object' && Object.keys(node.additionalProperties).length
        ? shaped(node.additionalProperties, wrong, depth + 1)
        : junk;
    options.push(fc.dictionary(fc.string({ maxLength: 10 }), values, { maxKeys: 4 }));
  }
  if (types.includes('array') && node.items && depth < 3) {
    options.push(fc.array(shaped(node.items, wrong, depth + 1), { maxLength: 4 }));
  }
  if (!options.length) options.push(fc.jsonValue({ maxDepth: 1 }));
  return wrong
    ? fc.oneof({ weight: 3, arbitrary: fc.oneof(...options) }, { weight: 1, arbitrary: junk })
    : fc.oneof(...options);
}

/** Flow documents: real ones with up to three random changes (set, delete, duplicate anywhere in them). */
function flowDocuments(): fc.Arbitrary<unknown> {
  const fast = demo();
  (fast.nodes.find((n) => n.id === 'pause') as { params: Json }).params.ms = 0;
  const templates: unknown[] = [
    fast,
    hookFlow('fuzzed hook'),
    {
      format: 1,
      name: 'fuzzed inline',
      nodes: [
        { id: 'when', type: 'schedule', params: { cron: '*/5 * * * *', timezone: 'Europe/Berlin' } },
        { id: 'src', type: 'inline-records', params: { records: [{ key: 'a', n: 1 }], keyField: 'key' } },
        { id: 'double', type: 'map', params: { fields: [{ name: 'double', expression: 'n * 2' }] } },
        { id: 'out', type: 'collect' },
      ],
      edges: [
        { source: 'when', target: 'src' },
        { source: 'src', target: 'double' },
        { source: 'double', target: 'out' },
      ],
    },
  ];
  const change = fc.tuple(fc.nat(), fc.constantFrom('set', 'delete', 'copy'), junk);
  return fc.tuple(fc.constantFrom(...templates), fc.array(change, { maxLength: 3 })).map(([template, changes]) => {
    const doc = structuredClone(template);
    for (const [at, op, value] of changes) {
      const slots: [Json | unknown[], string | number][] = [];
      const walk = (node: unknown) => {
        if (node === null || typeof node !== 'object') return;
        for (const [k, v] of Object.entries(node)) {
          slots.push([node as Json, Array.isArray(node) ? Number(k) : k]);
          walk(v);
        }
      };
      walk(doc);
      if (!slots.length) break;
      const [parent, key] = slots[at % slots.length]!;
      if (op === 'set') (parent as Json)[key] = value;
      else if (Array.isArray(parent)) {
        if (op === 'delete') parent.splice(key as number, 1);
        else parent.push(structuredClone(parent[key as number]));
      } else if (op === 'delete') delete parent[key];
      else parent[`${key}`.concat('2')] = structuredClone(parent[key]);
    }
    return doc;
  });
}

const filled = (value: fc.Arbitrary<unknown>) =>
  fc
    .tuple(value, fc.constantFrom(...DEPTHS), fc.boolean(), fc.constantFrom(...HUGES))
    .map(([v, depth, arrays, huge]) => {
      const json = JSON.stringify(v);
      return json === undefined ? undefined : fill(json, depth, arrays, huge);
    });

const anythingAsText = fc.anything({ maxDepth: 3 }).map((v) => {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return 'unprintable';
  }
});

/** Bodies: shaped after the route's body (right keys, wrong values), and any JSON, text or broken JSON. */
function bodies(route: RegisteredRoute): fc.Arbitrary<string | undefined> {
  const values: fc.Arbitrary<unknown>[] = [junk];
  if (route.spec.body) {
    const schema = jsonSchema(route.spec.body);
    values.push(shaped(schema, false), shaped(schema, true), shaped(schema, true));
  }
  if (route.spec.rawBody) values.push(flowDocuments(), flowDocuments());
  const structured = filled(fc.oneof(...values));
  return fc.oneof(
    { weight: 8, arbitrary: structured },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        undefined,
        '',
        ' ',
        '\n\t',
        'null',
        'true',
        '0',
        '"x"',
        '[]',
        '{}',
        '{',
        '{"',
        '[1,',
        'undefined',
        'NaN',
        '1e400',
        '\ufeff{}',
        '{"a":1}{"b":2}',
        '{"__proto__":{"polluted":1}}',
        '{"constructor":{"prototype":{"polluted":1}}}',
        `[${'1,'.repeat(200_000)}1]`,
        'x'.repeat(300_000),
      ),
    },
    { weight: 1, arbitrary: fc.json() },
    { weight: 1, arbitrary: anythingAsText },
    {
      weight: 2,
      arbitrary: structured.chain((s) =>
        s === undefined ? fc.constant(s) : fc.nat({ max: Math.max(0, s.length - 1) }).map((n) => s.slice(0, n)),
      ),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(structured, fc.constantFrom(...HUGES))
        .map(([s, huge]) => s?.replace(/-?\d+(\.\d+)?([eE][+-]?\d+)?/, huge)),
    },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 200 }) },
  );
}

/** Ids that exist (so requests get past the lookup) and ids that nearly do. */
function validValues(route: RegisteredRoute, name: string): { exact: string[]; near: string[] } {
  if (name === 'name') return { exact: [CONNECTION.name, 'maintenance-sandbox'], near: ['FUZZ-CONN', 'fuzz-conn '] };
  if (name === 'ruleId') return { exact: [seeds.ruleId], near: [seeds.ruleId.toUpperCase(), `${seeds.ruleId} `] };
  if (name === 'nodeId') return { exact: ['hook', 'start'], near: ['HOOK', 'hook '] };
  if (name === 'key') return { exact: [seeds.recordKey], near: [`${seeds.recordKey} `, seeds.recordKey.toLowerCase()] };
  if (route.path.startsWith('/api/runs/')) {
    const id = seeds.runId;
    return { exact: [id], near: [`0${id}`, `${id}.0`, `+${id}`, ` ${id}`, `${Number(id) + 1000}`, `${id}e0`] };
  }
  if (route.path.startsWith('/api/flows/')) {
    return { exact: [seeds.flowId, seeds.hookFlowId], near: [seeds.flowId.toUpperCase(), `${seeds.flowId} `] };
  }
  if (route.path.startsWith('/api/users/')) {
    return { exact: [seeds.userId], near: [seeds.userId.toUpperCase(), `${seeds.userId} `] };
  }
  if (route.path.startsWith('/api/sessions/')) {
    return { exact: [seeds.sessionId], near: [seeds.sessionId.toUpperCase(), `${seeds.sessionId} `] };
  }
  if (route.path.startsWith('/api/tokens/')) {
    return { exact: [seeds.tokenId], near: [`${seeds.tokenId}.0`, `0x${seeds.tokenId}`, ` ${seeds.tokenId}`] };
  }
  return { exact: [], near: [] };
}

function param(route: RegisteredRoute, name: string): fc.Arbitrary<string> {
  const { exact, near } = validValues(route, name);
  const options = [
    { weight: 2, arbitrary: text.map(enc) },
    { weight: 1, arbitrary: fc.constantFrom(...RAW_SEGMENTS) },
  ];
  if (exact.length) options.push({ weight: 4, arbitrary: fc.constantFrom(...exact) });
  if (near.length) options.push({ weight: 1, arbitrary: fc.constantFrom(...near).map(enc) });
  return fc.oneof(...options);
}

const asQueryValue = (v: unknown) => (typeof v === 'string' ? v : (JSON.stringify(v) ?? ''));

/** Query strings: the route's parameters with fitting and unfitting values, unknown ones, repeats, broken escapes. */
function queries(route: RegisteredRoute): fc.Arbitrary<string> {
  const props = route.spec.query ? (jsonSchema(route.spec.query).properties ?? {}) : {};
  const known = Object.entries(props).map(([name, schema]) =>
    fc.tuple(fc.constant(name), fc.oneof(shaped(schema, false), shaped(schema, true)).map(asQueryValue)),
  );
  const other = fc.tuple(
    fc.oneof(
      fc.string({ maxLength: 10 }),
      fc.constantFrom('access_token', '__proto__', 'constructor', 'limit[]', 'a[b]', '', 'limit', 'cursor', 'version'),
    ),
    fc.oneof(
      text,
      fc.constantFrom(
        '1',
        '1000',
        '1001',
        '2026-01-01T00:00:00Z',
        '275760-09-13T00:00:00.001Z',
        seeds.runId,
        seeds.flowId,
      ),
    ),
  );
  const pair = fc.oneof(...known.map((arbitrary) => ({ weight: 3, arbitrary })), { weight: 1, arbitrary: other });
  const entry = fc.tuple(pair, fc.nat(9));
  return fc.array(entry, { maxLength: known.length + 2 }).map((entries) => {
    if (!entries.length) return '';
    const parts = entries.map(([[k, v], mode]) => {
      if (mode === 0) return enc(k); // a key without a value
      if (mode === 1) return `${wellFormed(k).replace(/[#&=]/g, '')}=${wellFormed(v).replace(/[#&]/g, '')}`; // unescaped
      return `${enc(k)}=${enc(v)}`;
    });
    return `?${parts.join('&')}`;
  });
}

const AUTH: { header: string | undefined; valid: boolean }[] = [
  { header: `bearer ${TEST_TOKEN}`, valid: true },
  { header: `Bearer   ${TEST_TOKEN}  `, valid: true },
  { header: undefined, valid: false },
  { header: '', valid: false },
  { header: 'Bearer', valid: false },
  { header: 'Bearer ', valid: false },
  { header: `Bearer ${TEST_TOKEN}x`, valid: false },
  { header: `Bearer ${TEST_TOKEN.slice(0, -1)}`, valid: false },
  { header: `Basic ${Buffer.from(`user:${TEST_TOKEN}`).toString('base64')}`, valid: false },
  { header: `Token ${TEST_TOKEN}`, valid: false },
  { header: `Bearer ${TEST_TOKEN} ${TEST_TOKEN}`, valid: false },
  { header: `Bearer slc_${'A'.repeat(32)}`, valid: false },
];

const auths = fc.oneof(
  { weight: 16, arbitrary: fc.constant({ header: `Bearer ${TEST_TOKEN}` as string | undefined, valid: true }) },
  { weight: 3, arbitrary: fc.constantFrom(...AUTH) },
  {
    weight: 1,
    arbitrary: fc
      .stringMatching(/^[\x21-\x7e]{1,60}$/)
      .map((s) => ({ header: `Bearer ${s}` as string | undefined, valid: s === TEST_TOKEN })),
  },
);

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'APPLICATION/JSON',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=zzz',
  'application/json; charset=utf-16',
  'application/x-ndjson',
  'application/xml',
  '*/*',
  'garbage',
  '',
];

const headerName = fc
  .oneof(
    fc.stringMatching(/^x-[a-z0-9-]{1,20}$/),
    fc.constantFrom(
      'accept',
      'accept-encoding',
      'accept-language',
      'cookie',
      'origin',
      'referer',
      'user-agent',
      'x-forwarded-for',
      'x-forwarded-proto',
      'x-forwarded-host',
      'x-http-method-override',
      'x-real-ip',
      'if-none-match',
      'range',
      'content-length',
      'content-encoding',
      SIGNATURE_HEADER,
      SECRET_HEADER,
    ),
  )
  .filter((n) => n !== 'authorization');
const headerValue = fc.oneof(
  fc.stringMatching(/^[\x20-\x7e]{0,60}$/),
  fc.constantFrom('', 'GET', 'DELETE', '*', '../', 'bytes=0-1', 'gzip', '-1', '1e400', '99999999999', 'a'.repeat(8000)),
);

const headers = (authorization: string | undefined, contentType: string | undefined, extra: [string, string][]) => {
  const h: Record<string, string> = Object.fromEntries(extra);
  if (contentType !== undefined) h['content-type'] = contentType;
  if (authorization !== undefined) h.authorization = authorization;
  return h;
};

function attempts(route: RegisteredRoute): fc.Arbitrary<Attempt> {
  const method = route.method.toUpperCase();
  const names = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1] as string);
  return fc
    .record({
      params: fc.tuple(...names.map((n) => param(route, n))),
      query: queries(route),
      auth: auths,
      contentType: fc.option(fc.constantFrom(...CONTENT_TYPES), { nil: undefined, freq: 3 }),
      extra: fc.array(fc.tuple(headerName, headerValue), { maxLength: 3 }),
      body: method === 'GET' ? fc.constant(undefined) : bodies(route),
    })
    .map(({ params, query, auth, contentType, extra, body }) => {
      let i = 0;
      const path = route.path.replace(/\{\w+\}/g, () => params[i++] as string);
      return new Attempt(method, `${path}${query}`, headers(auth.header, contentType, extra), body, auth.valid);
    });
}

// ---------------------------------------------------------------------------------------------------

beforeAll(async () => {
  t = await openTestSluice({ workOrders: 50 });
  const flow = demo();
  (flow.nodes.find((n) => n.id === 'pause') as { params: Json }).params.ms = 0;
  const { id: flowId } = await call<{ id: string }>('POST', '/api/flows', flow, 201);
  const { runId } = await call<{ runId: string }>('POST', `/api/flows/${flowId}/runs`, undefined, 202);
  await t.parts.runner.wait(runId);
  const records = await call<{ items: { key: string }[] }>('GET', `/api/runs/${runId}/records?limit=1`);
  await call('POST', '/api/connections', CONNECTION, 201);
  const { info } = await call<{ info: { id: number } }>('POST', '/api/tokens', { name: 'fuzz-token' }, 201);

  const hook = async (name: string, publish: boolean, enabled: boolean) => {
    const { id } = await call<{ id: string }>('POST', '/api/flows', hookFlow(name), 201);
    if (publish) await call('POST', `/api/flows/${id}/publish`);
    if (!enabled) await call('PUT', `/api/flows/${id}/enabled`, { enabled: false });
    const { items } = await call<{ items: { id: string }[] }>('GET', `/api/flows/${id}/hooks`);
    return { flowId: id, hookId: items[0]!.id };
  };
  const rule = await call<{ id: string }>(
    'POST',
    `/api/flows/${flowId}/alerts`,
    {
      condition: { kind: 'run-failed' },
      channel: { type: 'webhook', url: 'http://127.0.0.1:9/', secret: 'fuzz-secret' },
    },
    201,
  );
  const user = await call<{ id: string }>(
    'POST',
    '/api/users',
    { email: 'fuzz@example.com', name: 'Fuzz', role: 'editor', password: 'fuzz password' },
    201,
  );
  // a session of that user (the fuzzed requests, with the admin token, cannot revoke it: it is not theirs)
  const signedIn = await t.raw.request('/api/auth/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'fuzz@example.com', password: 'fuzz password' }),
  });
  if (signedIn.status !== 200) throw new Error(`seeding: login answered ${signedIn.status}`);
  const sessionId = (await t.parts.storage.sessions.listForUser(user.id))[0]?.id ?? 'none';
  const live = await hook('fuzz hook', true, true);
  const unpublished = await hook('fuzz hook, unpublished', false, true);
  const disabled = await hook('fuzz hook, disabled', true, false);
  seeds = {
    flowId,
    hookFlowId: live.flowId,
    runId,
    recordKey: records.items[0]!.key,
    tokenId: String(info.id),
    unpublishedHookId: unpublished.hookId,
    disabledHookId: disabled.hookId,
    ruleId: rule.id,
    userId: user.id,
    sessionId,
  };
  await settle();
}, 60_000);

afterAll(async () => {
  if (process.env.FUZZ_STATS) {
    const total = [...sent.values()].reduce((a, b) => a + b, 0);
    const lines = [...sent].map(([k, n]) => {
      const statuses = [...(answered.get(k) ?? [])].sort(([a], [b]) => a - b).map(([s, c]) => `${s}×${c}`);
      return `${n}\t${k}\t${statuses.join(' ')}`;
    });
    console.log(`bad-input: ${total} requests\n${lines.join('\n')}`);
  }
  await t?.close();
});

describe('bad input to every API route', () => {
  it('covers every route the app declares', () => {
    const key = (r: RegisteredRoute) => `${r.method} ${r.path}`;
    expect(t.raw.routes.map(key)).toEqual(declared.map(key));
    expect(declared.length).toBeGreaterThan(30);
  });

  for (const route of declared) {
    const label = `${route.method.toUpperCase()} ${route.path}`;
    it(`${label}: answers below 500, a JSON error for a 4xx, 401 without a token, and changes nothing when refused`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.limitShrink(attempts(route), SHRINKS), async (a) => {
          await exercise(label, a);
        }),
        { seed: SEED, numRuns: RUNS },
      );
    }, 120_000);
  }
});

/** A new published, enabled webhook flow (the fuzzed routes may have changed the seeded one): its hook id and secret. */
async function freshHook(name: string): Promise<{ id: string; secret: string }> {
  const { id: flowId } = await call<{ id: string }>('POST', '/api/flows', hookFlow(name), 201);
  await call('POST', `/api/flows/${flowId}/publish`);
  const { items } = await call<{ items: { id: string; secret: string }[] }>('GET', `/api/flows/${flowId}/hooks`);
  await settle();
  return items[0]!;
}

describe('webhook addresses', () => {
  it('POST /hooks/<id> with random ids, bodies and headers: never 500, a JSON error when refused, no run without the secret', async () => {
    const { id: hookId, secret } = await freshHook('fuzz hook, fresh');
    const ids = fc.oneof(
      { weight: 4, arbitrary: fc.constant(hookId) },
      { weight: 1, arbitrary: fc.constantFrom(seeds.unpublishedHookId, seeds.disabledHookId) },
      { weight: 2, arbitrary: text.map(enc) },
      { weight: 1, arbitrary: fc.constantFrom(...RAW_SEGMENTS) },
      {
        weight: 1,
        arbitrary: fc.constantFrom(hookId.toUpperCase(), hookId.slice(0, -1), `${hookId}x`, enc(`${hookId}\u0000`)),
      },
    );
    const record = fc.dictionary(fc.string({ maxLength: 8 }), junk, { maxKeys: 4 });
    const hookBodies = fc.oneof(
      { weight: 3, arbitrary: filled(fc.array(record, { maxLength: 5 })) },
      {
        weight: 2,
        arbitrary: fc
          .tuple(fc.array(filled(record), { minLength: 1, maxLength: 5 }), fc.constantFrom('\n', '\r\n', '\n\n'))
          .map(([lines, eol]) => lines.join(eol)),
      },
      { weight: 1, arbitrary: filled(fc.array(junk, { maxLength: 4 })) },
      { weight: 1, arbitrary: fc.constant(JSON.stringify([{ big: 'x'.repeat(HOOK_LIMIT) }])) },
      { weight: 3, arbitrary: bodies(declared.find((r) => r.path === '/api/flows/{id}/runs') as RegisteredRoute) },
    );
    const schemes = ['none', 'secret', 'wrong-secret', 'signature', 'signature-upper', 'other-signature', 'garbage'];
    const hookAttempts = fc
      .record({
        id: ids,
        body: hookBodies,
        scheme: fc.constantFrom(...schemes),
        auth: fc.option(fc.constantFrom(...AUTH), { freq: 3 }),
        contentType: fc.option(fc.constantFrom(...CONTENT_TYPES), { nil: undefined, freq: 3 }),
        length: fc.option(
          fc.constantFrom('0', '1', `${HOOK_LIMIT}`, `${HOOK_LIMIT + 1}`, '99999999', '-1', 'abc', '1e400'),
          { freq: 3 },
        ),
        extra: fc.array(fc.tuple(headerName, headerValue), { maxLength: 2 }),
      })
      .map(({ id, body, scheme, auth, contentType, length, extra }) => {
        const h = headers(auth?.header, contentType, extra);
        const signed = signBody(secret, body ?? '');
        if (scheme === 'secret') h[SECRET_HEADER] = secret;
        if (scheme === 'wrong-secret') h[SECRET_HEADER] = `${secret}x`;
        if (scheme === 'signature') h[SIGNATURE_HEADER] = signed;
        if (scheme === 'signature-upper') h[SIGNATURE_HEADER] = ` ${signed.toUpperCase()} `;
        if (scheme === 'other-signature') h[SIGNATURE_HEADER] = signBody(secret, `${body ?? ''} `);
        if (scheme === 'garbage') h[SIGNATURE_HEADER] = 'sha256=zz';
        if (length !== null) h['content-length'] = length;
        // a signature, when there is one, decides; else the secret (header values arrive trimmed)
        const signature = h[SIGNATURE_HEADER]?.trim();
        const authentic = signature
          ? signature.toLowerCase() === signBody(secret, body ?? '')
          : h[SECRET_HEADER]?.trim() === secret;
        return { attempt: new Attempt('POST', `/hooks/${id}`, h, body, true), authentic };
      });
    await fc.assert(
      fc.asyncProperty(fc.limitShrink(hookAttempts, SHRINKS), async ({ attempt, authentic }) => {
        const status = await exercise('POST /hooks/{id}', attempt);
        if (!authentic)
          expect(status, `accepted without the hook's secret: ${fc.stringify(attempt)}`).toBeGreaterThan(299);
      }),
      { seed: SEED, numRuns: HOOK_RUNS },
    );
  }, 120_000);
});

// Found by this file: a JSON value nested about 5000 levels deep parses fine but made JSON.stringify throw
// "RangeError: Maximum call stack size exceeded" where the server stores it, answered 500
// (flows/repository.ts create and update; storage/sqlite/runs.ts create, from Runner.enqueue for
// POST /api/flows/{id}/runs and POST /hooks/{id}). These cases assert the intended behaviour: a 4xx, or acceptance.
describe('deeply nested JSON in an otherwise valid body', () => {
  const deep = nested(10_000, true);
  const authorized = { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json' };
  const inlineFlow = () =>
    JSON.stringify({
      format: 1,
      name: 'deep records',
      nodes: [
        { id: 'start', type: 'manual' },
        { id: 'src', type: 'inline-records', params: { records: [{ key: 'a', n: DEEP }] } },
        { id: 'out', type: 'collect' },
      ],
      edges: [
        { source: 'start', target: 'src' },
        { source: 'src', target: 'out' },
      ],
    }).replace(JSON.stringify(DEEP), deep);

  it('POST /api/flows: a flow whose inline record is nested 10000 deep is not answered 500', async () => {
    await exercise('deep: POST /api/flows', new Attempt('POST', '/api/flows', authorized, inlineFlow(), true));
  });

  it('PUT /api/flows/{id}: the same document as a new version is not answered 500', async () => {
    const path = `/api/flows/${seeds.flowId}`;
    await exercise('deep: PUT /api/flows/{id}', new Attempt('PUT', path, authorized, inlineFlow(), true));
  });

  it('POST /api/flows/{id}/runs: a run started with a record nested 10000 deep is not answered 500', async () => {
    const path = `/api/flows/${seeds.flowId}/runs`;
    const body = `{"records":[{"key":"a","n":${deep}}]}`;
    await exercise('deep: POST /api/flows/{id}/runs', new Attempt('POST', path, authorized, body, true));
  });

  it('POST /hooks/{id}: a signed body with a record nested 10000 deep is not answered 500', async () => {
    const hook = await freshHook('deep hook');
    const body = `[{"key":"a","n":${deep}}]`;
    const headers = { [SIGNATURE_HEADER]: signBody(hook.secret, body) };
    await exercise('deep: POST /hooks/{id}', new Attempt('POST', `/hooks/${hook.id}`, headers, body, true));
  });
});

// A schedule node whose params fail validation keeps its raw params; the server's cron check once called
// cron.split on them (a 500). The flow format's own problem must be the answer.
describe('a schedule node with parameters of the wrong type', () => {
  const authorized = { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json' };
  const params: unknown[] = [
    { cron: false },
    { cron: null },
    { cron: 5 },
    { cron: ['* * * * *'] },
    { cron: { minute: 0 } },
    { overlap: 'sometimes' },
  ];
  const flow = (p: unknown) =>
    JSON.stringify({
      format: 1,
      name: 'bad schedule',
      nodes: [
        { id: 'when', type: 'schedule', params: p },
        { id: 'src', type: 'inline-records' },
      ],
      edges: [{ source: 'when', target: 'src' }],
    });
  const cases = [
    ['POST', '/api/flows/validate'],
    ['POST', '/api/flows'],
    ['PUT', '/api/flows/{id}'],
  ] as const;

  for (const [method, route] of cases) {
    it(`${method} ${route}: reports the problem (or saves a draft) instead of answering 500`, async () => {
      const path = route.replace('{id}', seeds.flowId);
      for (const p of params) {
        await exercise(`schedule: ${method} ${route}`, new Attempt(method, path, authorized, flow(p), true));
      }
    });
  }
});
