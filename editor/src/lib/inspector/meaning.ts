import { type Flow, type FlowNode, nodeTypes } from '@sluice/shared';

/** "1,000" */
const count = (n: number) => n.toLocaleString('en-US');

const plural = (n: number, one: string, many: string) => `${count(n)} ${n === 1 ? one : many}`;

const trim = (n: number, digits: number) => String(Number(n.toFixed(digits)));

/** A span of time, short: "200 ms", "3.8 s", "99 s", "1 min", "2 min 30 s", "1 h 5 min", "2 d 3 h". */
export function formatSpan(ms: number): string {
  if (ms < 1000) return `${trim(ms, 0)} ms`;
  const seconds = ms / 1000;
  if (seconds < 100 && (seconds < 60 || seconds % 60 !== 0)) return `${trim(seconds, seconds < 10 ? 2 : 1)} s`;
  const totalSeconds = Math.round(seconds);
  const minutes = Math.floor(totalSeconds / 60);
  if (minutes < 100) return totalSeconds % 60 ? `${minutes} min ${totalSeconds % 60} s` : `${minutes} min`;
  const totalMinutes = Math.round(seconds / 60);
  const hours = Math.floor(totalMinutes / 60);
  if (hours < 48) return totalMinutes % 60 ? `${hours} h ${totalMinutes % 60} min` : `${hours} h`;
  const totalHours = Math.round(seconds / 3600);
  const days = Math.floor(totalHours / 24);
  return totalHours % 24 ? `${days} d ${totalHours % 24} h` : `${days} d`;
}

/** The node's params with its type's defaults, or null when they do not parse (the form shows why). */
function paramsOf(node: FlowNode): Record<string, unknown> | null {
  const def = nodeTypes.get(node.type);
  if (!def) return null;
  const parsed = def.params.safeParse(node.params ?? {});
  return parsed.success ? (parsed.data as Record<string, unknown>) : null;
}

const num = (value: unknown): number | null => (typeof value === 'number' && Number.isFinite(value) ? value : null);

/** Node types whose `out` port passes on every record that reaches them (when none fails). */
const PASS_THROUGH = new Set(['batch', 'delay', 'map', 'http-write', 'sql-lookup', 'sql-write']);

class Graph {
  private readonly byId = new Map<string, FlowNode>();

  constructor(private readonly flow: Flow) {
    for (const node of flow.nodes) if (!this.byId.has(node.id)) this.byId.set(node.id, node);
  }

  node(id: string): FlowNode | undefined {
    return this.byId.get(id);
  }

  incoming(id: string) {
    return this.flow.edges.filter((e) => e.target === id);
  }

  /**
   * How many records reach a node in one run, when the flow says: the sources upstream (generate's
   * count, the inline records) through nodes that pass every record on. Null when it cannot be known
   * (an HTTP source, a webhook, a filter or branch on the way, an error port, nothing connected).
   */
  recordsInto(id: string, seen: ReadonlySet<string> = new Set()): number | null {
    if (seen.has(id)) return null;
    const edges = this.incoming(id);
    if (edges.length === 0) return null;
    const inner = new Set(seen).add(id);
    let total = 0;
    for (const edge of edges) {
      const n = this.recordsOutOf(edge.source, edge.sourcePort ?? 'out', inner);
      if (n === null) return null;
      total += n;
    }
    return total;
  }

  private recordsOutOf(id: string, port: string, seen: ReadonlySet<string>): number | null {
    const node = this.node(id);
    if (!node || port !== 'out') return null;
    if (node.type === 'generate') return num(paramsOf(node)?.['count']);
    if (node.type === 'inline-records') {
      const records = paramsOf(node)?.['records'];
      return Array.isArray(records) ? records.length : null;
    }
    if (PASS_THROUGH.has(node.type)) return this.recordsInto(id, seen);
    return null;
  }

  /** The nearest batch node upstream of a node (following edges backwards), if any. */
  batchAbove(id: string): FlowNode | null {
    const seen = new Set<string>([id]);
    let frontier = [id];
    while (frontier.length) {
      const next: string[] = [];
      for (const at of frontier) {
        for (const edge of this.incoming(at)) {
          if (seen.has(edge.source)) continue;
          seen.add(edge.source);
          const source = this.node(edge.source);
          if (source?.type === 'batch') return source;
          next.push(edge.source);
        }
      }
      frontier = next;
    }
    return null;
  }
}

function describeBatch(graph: Graph, node: FlowNode, params: Record<string, unknown>): string | null {
  const size = num(params['size']);
  if (size === null || size < 1) return null;
  const records = graph.recordsInto(node.id);
  if (records === null) return `batches of ${count(size)}`;
  if (records === 0) return '0 records → no batches';
  const batches = Math.ceil(records / size);
  const head = `${plural(records, 'record', 'records')} →`;
  if (batches === 1) return `${head} 1 batch of ${count(records)}`;
  const rest = records % size;
  return `${head} ${count(batches)} batches of ${count(size)}${rest ? ` (the last of ${count(rest)})` : ''}`;
}

function describeFixedDelay(graph: Graph, node: FlowNode, params: Record<string, unknown>): string | null {
  const ms = num(params['ms']);
  if (ms === null) return null;
  const batch = graph.batchAbove(node.id);
  const size = batch ? num(paramsOf(batch)?.['size']) : null;
  const records = batch ? graph.recordsInto(batch.id) : null;
  if (size === null || size < 1 || records === null) {
    return ms === 0 ? 'no wait between batches' : `${formatSpan(ms)} between batches`;
  }
  const batches = Math.ceil(records / size);
  if (batches <= 1) return `${plural(batches, 'batch', 'batches')} → no wait`;
  if (ms === 0) return `no wait between ${count(batches)} batches`;
  const gaps = batches - 1;
  return `at least ${count(gaps)} × ${formatSpan(ms)} = ${formatSpan(gaps * ms)} of delays over ${count(batches)} batches`;
}

function describeRate(graph: Graph, node: FlowNode, params: Record<string, unknown>): string | null {
  const perInterval = num(params['records']);
  const intervalMs = num(params['intervalMs']);
  if (perInterval === null || intervalMs === null || perInterval < 1) return null;
  const head = `at most ${plural(perInterval, 'record', 'records')} per ${formatSpan(intervalMs)}`;
  const records = graph.recordsInto(node.id);
  if (records === null) return head;
  if (records <= perInterval) return `${head} → ${plural(records, 'record passes', 'records pass')} without waiting`;
  const windows = Math.ceil(records / perInterval);
  return `${head} → ${plural(records, 'record', 'records')} take at least ${formatSpan((windows - 1) * intervalMs)}`;
}

/**
 * What a node's numbers mean for this flow, in one line: "1,000 records → 20 batches of 50",
 * "at least 19 × 200 ms = 3.8 s of delays over 20 batches", "at most 10 records per 1 s → 1,000
 * records take at least 99 s". Null for other nodes, or when the params do not parse.
 */
export function describeSettings(flow: Flow, nodeId: string): string | null {
  const graph = new Graph(flow);
  const node = graph.node(nodeId);
  if (!node) return null;
  const params = paramsOf(node);
  if (!params) return null;
  switch (node.type) {
    case 'batch':
      return describeBatch(graph, node, params);
    case 'delay':
      return params['mode'] === 'rate' ? describeRate(graph, node, params) : describeFixedDelay(graph, node, params);
    default:
      return null;
  }
}
