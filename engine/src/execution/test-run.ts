import { entityWriteParams } from '../nodes/entity-write.js';
import { resolveTarget } from '../nodes/http.js';
import { batchKey, fillUrl } from '../nodes/http-write.js';
import type { Item, NodeRuntime, SourceContext, WriteContext } from '../runtime.js';
import type { LiveNode } from './graph.js';

/**
 * A test run: the flow on the first `limit` records of each source, writes not sent unless asked,
 * sources with pinned data emitting it instead of being called. What every node received, emitted
 * and failed is kept (see `TestCapture`) and reported with the result. A real run has no `test` and
 * pays nothing for any of this.
 */
export interface TestOptions {
  /** Records each source emits at most; it stops reading after them. */
  limit: number;
  /** Send HTTP writes, entity writes and file sinks for real (default: each shows the request it would make). */
  sendWrites?: boolean;
  /** Sample records by node id, kept with the flow: a source with pinned data emits them instead of reading. */
  pinned?: Readonly<Record<string, readonly Record<string, unknown>[]>>;
  /** "Test to here": only this node and the nodes that feed it run; the others receive nothing. */
  until?: string;
}

/** What one node received, emitted and failed in a test run (each list at most `TEST_CAPTURE_MAX` long). */
export interface NodeTestData {
  input: unknown[];
  output: unknown[];
  failed: { data: unknown; error: string }[];
  /** Some records were left out (a list reached its bound). */
  truncated?: boolean;
  /** A write that was not sent: `output` holds the requests it would have made. */
  dryRun?: boolean;
  /** Pinned data was used instead of running the node. */
  pinned?: boolean;
}

/** How many records each list of a node keeps, whatever the limit asked. */
export const TEST_CAPTURE_MAX = 500;

/** The types whose effect a test run does not send. */
const WRITE_TYPES = new Set(['http-write', 'entity-write', 'file-sink', 'sql-write']);

/** Thrown by a source's `emitPage` once it has emitted the test's limit: the source stops reading. */
export class LimitReached extends Error {
  constructor() {
    super('the test run read the records it asked for');
  }
}

/** Per-node input, output and failures of a test run, bounded. */
export class TestCapture {
  readonly nodes: Record<string, NodeTestData> = {};
  /** Records emitted so far by each source. */
  private readonly read = new Map<string, number>();

  constructor(readonly options: TestOptions) {}

  private of(nodeId: string): NodeTestData {
    let data = this.nodes[nodeId];
    if (!data) {
      data = { input: [], output: [], failed: [] };
      this.nodes[nodeId] = data;
    }
    return data;
  }

  /** Records the data of items as they entered a node. */
  received(nodeId: string, items: readonly Item[]): void {
    this.push(nodeId, 'input', items);
  }

  /** Records items leaving a node by a port; those that failed at it, with their reason. */
  sent(nodeId: string, port: string, items: readonly Item[]): void {
    const data = this.of(nodeId);
    if (port === 'error') {
      for (const item of items) {
        if (item.seq < 0 || item.failedAt !== nodeId) continue;
        if (data.failed.length >= TEST_CAPTURE_MAX) data.truncated = true;
        else data.failed.push({ data: copy(item.payload ?? item.data), error: item.error?.message ?? 'failed' });
      }
      return;
    }
    if (data.dryRun) return; // a write not sent shows its requests instead
    this.push(nodeId, 'output', items);
  }

  /** A dry write's would-be requests, as its output. */
  requests(nodeId: string, requests: unknown[]): void {
    const data = this.of(nodeId);
    data.dryRun = true;
    for (const r of requests) {
      if (data.output.length >= TEST_CAPTURE_MAX) data.truncated = true;
      else data.output.push(r);
    }
  }

  markPinned(nodeId: string): void {
    this.of(nodeId).pinned = true;
  }

  /** How many of `count` records a source may still emit. */
  room(nodeId: string, count: number): number {
    const done = this.read.get(nodeId) ?? 0;
    const take = Math.max(0, Math.min(count, this.options.limit - done));
    this.read.set(nodeId, done + take);
    return take;
  }

  full(nodeId: string): boolean {
    return (this.read.get(nodeId) ?? 0) >= this.options.limit;
  }

  private push(nodeId: string, list: 'input' | 'output', items: readonly Item[]): void {
    const data = this.of(nodeId);
    const target = data[list];
    for (const item of items) {
      if (item.seq < 0) continue;
      if (target.length >= TEST_CAPTURE_MAX) {
        data.truncated = true;
        return;
      }
      target.push(copy(item.data));
    }
  }
}

/** A snapshot of a record: later nodes may change the object a node emitted. */
function copy(value: unknown): unknown {
  return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
}

/** The nodes a "test to here" runs: the target and every node upstream of it. */
export function upstreamOf(nodes: Map<string, LiveNode>, target: string): Set<string> {
  const feeds = new Map<string, string[]>();
  for (const live of nodes.values())
    for (const targets of live.ports.values())
      for (const t of targets) feeds.set(t.node.id, [...(feeds.get(t.node.id) ?? []), live.node.id]);
  const keep = new Set<string>();
  const stack = [target];
  while (stack.length) {
    const id = stack.pop() as string;
    if (keep.has(id)) continue;
    keep.add(id);
    stack.push(...(feeds.get(id) ?? []));
  }
  return keep;
}

/** Whether a test run replaces this node's implementation, and with what. */
export function testRuntimeFor(
  live: LiveNode,
  capture: TestCapture,
  contextFor: (role: 'source' | 'write') => SourceContext | WriteContext,
): NodeRuntime | undefined {
  const { options } = capture;
  const id = live.node.id;
  const pinned = options.pinned?.[id];
  if (pinned && live.role === 'source') {
    const ctx = contextFor('source') as SourceContext;
    const keyField = (live.node.params as { keyField?: string }).keyField;
    capture.markPinned(id);
    return {
      async process(activations) {
        for (const _ of activations)
          await ctx.emitPage(
            pinned.map((r) => ({ ...r })),
            keyField,
            0,
          );
      },
    };
  }
  if (!options.sendWrites && WRITE_TYPES.has(live.node.type)) {
    const ctx = contextFor('write') as WriteContext;
    capture.requests(id, []);
    return {
      async process(items) {
        const records = items.filter((i) => i.seq >= 0);
        if (!records.length) return;
        capture.requests(id, wouldBeRequests(live, ctx, records));
        await ctx.emit('out', records);
      },
    };
  }
  return undefined;
}

const SECRET_HEADER = /^(authorization|proxy-authorization|cookie|x-api-key|api-key|apikey)$|token|secret|key$/i;

/** A header's value with its secret hidden: the scheme of an Authorization header stays. */
export function maskHeaders(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!SECRET_HEADER.test(name) || /idempotency/i.test(name)) {
      out[name] = value;
      continue;
    }
    const scheme = /^(Bearer|Basic|Token|ApiKey)\s+/i.exec(value)?.[1];
    out[name] = scheme ? `${scheme} ••••••` : '••••••';
  }
  return out;
}

/** The requests a write would make for these records (a file sink: the lines it would append). */
function wouldBeRequests(live: LiveNode, ctx: WriteContext, items: Item[]): unknown[] {
  const { node } = live;
  if (node.type === 'file-sink') {
    const p = node.params as { path: string; format: string };
    return items.map((item) => ({ append: p.path, format: p.format, record: item.data }));
  }
  if (node.type === 'sql-write') {
    const p = node.params as { table: string; mode: string };
    return items.map((item) => ({ table: p.table, mode: p.mode, row: item.data }));
  }
  const params =
    node.type === 'entity-write'
      ? entityWriteParams(node.params as Parameters<typeof entityWriteParams>[0])
      : (node.params as ReturnType<typeof entityWriteParams>);
  let target: { url: string; headers: Record<string, string> };
  try {
    target = resolveTarget(ctx, params);
  } catch (err) {
    target = { url: params.url, headers: { error: (err as Error).message } };
  }
  const headers = (key: string) =>
    maskHeaders({
      'content-type': 'application/json',
      ...target.headers,
      [params.idempotencyHeader]: key,
    });
  const url = (record: Record<string, unknown>) => {
    const filled = fillUrl(target.url, record);
    return typeof filled === 'string' ? filled : target.url;
  };
  if (params.mode !== 'batch') {
    return items.map((item) => ({
      method: params.method,
      url: url(item.data),
      headers: headers(`${ctx.runId}:${node.id}:${item.key}`),
      body: item.data,
    }));
  }
  const out: unknown[] = [];
  for (let i = 0; i < items.length; i += params.batchSize) {
    const group = items.slice(i, i + params.batchSize);
    const field = params.recordKeyField;
    const records = group.map((g) => (field ? { ...g.data, [field]: `${ctx.runId}:${node.id}:${g.key}` } : g.data));
    const first = group[0] as Item;
    out.push({
      method: params.method,
      url: url(first.data),
      headers: headers(batchKey(ctx.runId, node.id, group)),
      body: params.bodyPath ? nest(params.bodyPath, records) : records,
    });
  }
  return out;
}

function nest(path: string, value: unknown): unknown {
  return path
    .split('.')
    .reverse()
    .reduce<unknown>((inner, part) => ({ [part]: inner }), value);
}
