/**
 * How long a run of a flow will take, before it starts and while it goes: a pure function of the flow
 * document and of facts the server finds (record counts it can read cheaply, the per-record time measured
 * in recent runs). The editor and the server call the same functions, so the Run button, the inspector,
 * `GET /api/flows/{id}/estimate` and a run's `eta` agree.
 *
 * The model follows the engine's semantics (docs/semantics.md):
 * - a fixed delay holds group k until `ms` after group k-1 finished downstream, so `groups` groups wait
 *   exactly `(groups - 1) × ms` in all: a lower bound that is exact (a group is a batch after a batch
 *   node, else a source page);
 * - a rate delay lets `records` through in any window of `intervalMs`, so R records need at least
 *   `(ceil(R / records) - 1) × intervalMs` from the first release to the last;
 * - everything else (reading, mapping, writing, storing) is the per-record time `p` measured in recent
 *   runs: their duration minus the waits above, per record read.
 *
 * estimate = max(R × p, rateBound + L × p) + fixedWaits, where L is the number of records of the last
 * rate window (the work the rate limit cannot hide). `measurePerRecord` is its exact inverse.
 */
import type { Flow, FlowEdge, FlowNode } from './flow.js';
import { nodeTypes } from './nodes/index.js';

/** A record count and where it comes from, in words ("the count set on Generate records"). */
export interface CountFact {
  count: number;
  from: string;
}

/** What the document alone cannot tell: found by the server, or measured in earlier runs. */
export interface EstimateFacts {
  /** A count set by the caller: wins over everything else. */
  records?: number;
  /** Counts the server found for some sources (lines of a file, a total an HTTP API reports), by node id. */
  sourceCounts?: Readonly<Record<string, CountFact>>;
  /** The records read by the last succeeded run of the flow: the count when a source cannot tell. */
  lastRun?: { runId: string; records: number } | null;
  /** The processing time per record measured in recent runs (ms), and those runs. */
  perRecord?: { ms: number; runs: readonly string[] } | null;
}

export type EstimatePartKind = 'records' | 'batches' | 'delay' | 'rate' | 'processing';

/** One line of an estimate's breakdown: what a node (or the processing) contributes, and why. */
export interface EstimatePart {
  kind: EstimatePartKind;
  /** The node it comes from; null for the processing time of the whole flow. */
  nodeId: string | null;
  /** Its share of the duration in ms; null when it adds no time of its own or is unknown. */
  ms: number | null;
  /** False when this part cannot be worked out (it says why). */
  known: boolean;
  text: string;
}

export interface RunEstimate {
  /** Records the run will read, or null when nothing tells. */
  records: number | null;
  recordsFrom: string | null;
  /** Batches cut by the first batch node, or null (no batch node, or the count unknown). */
  batches: number | null;
  /** The waits that delays and rate limits impose alone (exact for fixed delays), or null when the count is unknown. */
  lowerBoundMs: number | null;
  /** Processing time per record measured in recent runs, and the runs. */
  perRecordMs: number | null;
  measuredRuns: string[];
  /** The estimated duration, or null when the record count or the per-record time is unknown. */
  estimateMs: number | null;
  breakdown: EstimatePart[];
}

interface Gate {
  node: FlowNode;
  mode: 'fixed' | 'rate';
  ms: number;
  records: number;
  intervalMs: number;
  /** Records per group reaching a fixed delay: a batch node's size, else the source's page. */
  groupSize: number;
  groupFrom: string;
  /** A filter, branch or failing node upstream may let fewer records reach it. */
  mayThin: boolean;
}

const THINNING_TYPES = new Set(['filter', 'branch']);

/** A node's parameters with the catalogue's defaults applied (as given when they do not parse). */
function paramsOf(node: FlowNode): Record<string, unknown> {
  const parsed = nodeTypes.get(node.type)?.params.safeParse(node.params ?? {});
  return (parsed?.success ? parsed.data : node.params) as Record<string, unknown>;
}

const num = (v: unknown, fallback: number): number => (typeof v === 'number' && Number.isFinite(v) ? v : fallback);

const label = (node: FlowNode) => node.name || nodeTypes.get(node.type)?.label || node.id;

function isSource(node: FlowNode): boolean {
  const def = nodeTypes.get(node.type);
  return def?.role === 'source' || def?.providesRecords === true;
}

/** What the document tells of a source's count: a generate node's count, inline records' length. */
export function documentCount(node: FlowNode): CountFact | null {
  const p = paramsOf(node);
  if (node.type === 'generate') return { count: num(p.count, 1000), from: `the count set on ${label(node)}` };
  if (node.type === 'inline-records' && Array.isArray(p.records))
    return { count: p.records.length, from: `the records typed into ${label(node)}` };
  return null;
}

/** Records per page a source hands downstream (what a delay without a batch node before it holds apart). */
function pageOf(node: FlowNode, maxInFlight: number): number {
  const p = paramsOf(node);
  if (node.type === 'inline-records')
    return Math.min(maxInFlight, Math.max(1, Array.isArray(p.records) ? p.records.length : 1));
  return Math.min(maxInFlight, Math.max(1, num(p.pageSize, 100)));
}

function upstream(flow: Flow, id: string, edges: readonly FlowEdge[]): FlowNode[] {
  const byId = new Map(flow.nodes.map((n) => [n.id, n]));
  const seen = new Set<string>();
  const out: FlowNode[] = [];
  const queue = [id];
  while (queue.length) {
    const at = queue.shift() as string;
    for (const e of edges) {
      if (e.target !== at || seen.has(e.source)) continue;
      seen.add(e.source);
      const n = byId.get(e.source);
      if (n) {
        out.push(n);
        queue.push(n.id);
      }
    }
  }
  return out;
}

function gatesOf(flow: Flow): Gate[] {
  const maxInFlight = flow.settings?.maxInFlight ?? 10_000;
  const gates: Gate[] = [];
  for (const node of flow.nodes) {
    if (node.type !== 'delay') continue;
    const p = paramsOf(node);
    const above = upstream(flow, node.id, flow.edges);
    const batch = above.find((n) => n.type === 'batch');
    const source = above.find(isSource);
    const groupSize = batch ? Math.max(1, num(paramsOf(batch).size, 50)) : source ? pageOf(source, maxInFlight) : 1;
    gates.push({
      node,
      mode: p.mode === 'rate' ? 'rate' : 'fixed',
      ms: num(p.ms, 1000),
      records: Math.max(1, num(p.records, 100)),
      intervalMs: Math.max(1, num(p.intervalMs, 60_000)),
      groupSize,
      groupFrom: batch ? `batches of ${fmtInt(groupSize)}` : `pages of ${fmtInt(groupSize)}`,
      mayThin: above.some((n) => THINNING_TYPES.has(n.type)),
    });
  }
  return gates;
}

/** The waits of a flow's delays for R records: fixed (exact) and the rate bound with its last window. */
function waitsFor(gates: readonly Gate[], records: number) {
  let fixed = 0;
  let rate = 0;
  let lastWindow = 0;
  const parts: { gate: Gate; groups: number; windows: number; ms: number }[] = [];
  for (const g of gates) {
    if (g.mode === 'fixed') {
      const groups = Math.ceil(records / g.groupSize);
      const ms = Math.max(0, groups - 1) * g.ms;
      fixed += ms;
      parts.push({ gate: g, groups, windows: 0, ms });
    } else {
      const windows = Math.ceil(records / g.records);
      const ms = Math.max(0, windows - 1) * g.intervalMs;
      if (ms >= rate) {
        rate = ms;
        lastWindow = records - Math.max(0, windows - 1) * g.records;
      }
      parts.push({ gate: g, groups: 0, windows, ms });
    }
  }
  return { fixed, rate, lastWindow, parts };
}

/** The record count a run will read, from the caller, the sources, or the last succeeded run. */
export function recordCount(flow: Flow, facts: EstimateFacts = {}): { count: CountFact | null; parts: EstimatePart[] } {
  if (facts.records !== undefined) {
    const count = { count: facts.records, from: 'the count given' };
    // shown at the source it stands for (the first, if there are several)
    const nodeId = flow.nodes.find(isSource)?.id ?? null;
    return {
      count,
      parts: [
        { kind: 'records', nodeId, ms: null, known: true, text: `${fmtInt(count.count)} records: ${count.from}` },
      ],
    };
  }
  const parts: EstimatePart[] = [];
  let total = 0;
  let allKnown = true;
  const sources = flow.nodes.filter(isSource);
  for (const node of sources) {
    const fact = documentCount(node) ?? facts.sourceCounts?.[node.id] ?? null;
    if (fact) {
      total += fact.count;
      parts.push({
        kind: 'records',
        nodeId: node.id,
        ms: null,
        known: true,
        text: `${fmtInt(fact.count)} records: ${fact.from}`,
      });
    } else {
      allKnown = false;
      parts.push({
        kind: 'records',
        nodeId: node.id,
        ms: null,
        known: false,
        text:
          node.type === 'webhook'
            ? 'record count unknown: the records come with each webhook call'
            : `record count unknown: ${label(node)} does not say how many records it will read`,
      });
    }
  }
  if (sources.length > 0 && allKnown) {
    const from =
      sources.length === 1 ? (parts[0]?.text.replace(/^[\d,]+ records: /, '') ?? '') : `${sources.length} sources`;
    return { count: { count: total, from }, parts };
  }
  if (facts.lastRun) {
    const incremental = sources.some((n) => !documentCount(n) && paramsOf(n).incremental !== undefined);
    const count = {
      count: facts.lastRun.records,
      from: `read by run ${facts.lastRun.runId}, the last that succeeded${incremental ? ' (an incremental source reads only what changed since: at most)' : ''}`,
    };
    const at = parts.find((p) => !p.known);
    return {
      count,
      parts: [
        ...parts.filter((p) => p.known),
        {
          kind: 'records',
          nodeId: at?.nodeId ?? null,
          ms: null,
          known: true,
          text: `${fmtInt(count.count)} records: ${count.from}`,
        },
      ],
    };
  }
  if (sources.length === 0)
    parts.push({
      kind: 'records',
      nodeId: null,
      ms: null,
      known: false,
      text: 'record count unknown: the flow has no source',
    });
  const missing = parts.find((p) => !p.known);
  if (missing) missing.text = `${missing.text}; run once or set it`;
  return { count: null, parts };
}

/** The estimate of a run of `flow`, with what each part comes from. */
export function estimateRun(flow: Flow, facts: EstimateFacts = {}): RunEstimate {
  const { count, parts } = recordCount(flow, facts);
  const breakdown: EstimatePart[] = [...parts];
  const records = count?.count ?? null;
  const gates = gatesOf(flow);
  const firstBatch = flow.nodes.find((n) => n.type === 'batch');
  const batchSize = firstBatch ? Math.max(1, num(paramsOf(firstBatch).size, 50)) : null;
  const batches = records !== null && batchSize !== null ? Math.ceil(records / batchSize) : null;
  if (firstBatch) {
    breakdown.push({
      kind: 'batches',
      nodeId: firstBatch.id,
      ms: null,
      known: batches !== null,
      text:
        batches !== null
          ? `${fmtInt(batches)} batch${batches === 1 ? '' : 'es'} of up to ${fmtInt(batchSize ?? 0)} records`
          : `batches of ${fmtInt(batchSize ?? 0)}: how many depends on the record count, unknown`,
    });
  }
  const perRecord = facts.perRecord && facts.perRecord.ms >= 0 ? facts.perRecord : null;
  if (records === null) {
    for (const g of gates)
      breakdown.push({
        kind: g.mode === 'fixed' ? 'delay' : 'rate',
        nodeId: g.node.id,
        ms: null,
        known: false,
        text:
          g.mode === 'fixed'
            ? `waits ${fmtMs(g.ms)} between ${g.groupFrom}: how often depends on the record count, unknown`
            : `at most ${fmtInt(g.records)} records per ${fmtMs(g.intervalMs)}: how long depends on the record count, unknown`,
      });
    breakdown.push(processingPart(null, perRecord));
    return {
      records: null,
      recordsFrom: null,
      batches: null,
      lowerBoundMs: null,
      perRecordMs: perRecord?.ms ?? null,
      measuredRuns: [...(perRecord?.runs ?? [])],
      estimateMs: null,
      breakdown,
    };
  }
  const waits = waitsFor(gates, records);
  for (const w of waits.parts) {
    const g = w.gate;
    const thin = g.mayThin ? ' (at most: filters upstream may let fewer through)' : '';
    breakdown.push(
      g.mode === 'fixed'
        ? {
            kind: 'delay',
            nodeId: g.node.id,
            ms: w.ms,
            known: true,
            text: `${fmtInt(Math.max(0, w.groups - 1))} wait${w.groups - 1 === 1 ? '' : 's'} of ${fmtMs(g.ms)} between ${fmtInt(w.groups)} ${g.groupFrom}: ${fmtMs(w.ms)}, exact${thin}`,
          }
        : {
            kind: 'rate',
            nodeId: g.node.id,
            ms: w.ms,
            known: true,
            text: `${fmtInt(records)} records at most ${fmtInt(g.records)} per ${fmtMs(g.intervalMs)}: at least ${fmtMs(w.ms)} from the first release to the last${thin}`,
          },
    );
  }
  const lowerBoundMs = waits.fixed + waits.rate;
  breakdown.push(processingPart(records, perRecord));
  const estimateMs =
    perRecord === null
      ? null
      : Math.round(Math.max(records * perRecord.ms, waits.rate + waits.lastWindow * perRecord.ms) + waits.fixed);
  return {
    records,
    recordsFrom: count?.from ?? null,
    batches,
    lowerBoundMs,
    perRecordMs: perRecord?.ms ?? null,
    measuredRuns: [...(perRecord?.runs ?? [])],
    estimateMs,
    breakdown,
  };
}

function processingPart(records: number | null, perRecord: EstimateFacts['perRecord']): EstimatePart {
  if (!perRecord)
    return {
      kind: 'processing',
      nodeId: null,
      ms: null,
      known: false,
      text: 'time per record unknown: run once to measure it',
    };
  const runs = perRecord.runs.length === 1 ? `run ${perRecord.runs[0]}` : `runs ${perRecord.runs.join(', ')}`;
  if (records === null)
    return {
      kind: 'processing',
      nodeId: null,
      ms: null,
      known: true,
      text: `${fmtPerRecord(perRecord.ms)} per record, measured in ${runs}`,
    };
  return {
    kind: 'processing',
    nodeId: null,
    ms: Math.round(records * perRecord.ms),
    known: true,
    text: `${fmtInt(records)} records × ${fmtPerRecord(perRecord.ms)} measured in ${runs}: ${fmtMs(records * perRecord.ms)}`,
  };
}

/**
 * The per-record processing time of a finished run of `flow` that read `records` in `durationMs`: its
 * duration less the waits of its delays, per record (the exact inverse of `estimateRun`). When a rate
 * limit held the run, the work it hid cannot be seen: `hidden` says so.
 */
export function measurePerRecord(
  flow: Flow,
  records: number,
  durationMs: number,
): { ms: number; hidden: boolean } | null {
  if (records <= 0 || durationMs < 0) return null;
  const w = waitsFor(gatesOf(flow), records);
  const busy = Math.max(0, durationMs - w.fixed);
  const p = busy / records;
  if (w.rate === 0 || records * p >= w.rate + w.lastWindow * p) return { ms: p, hidden: false };
  return { ms: w.lastWindow > 0 ? Math.max(0, busy - w.rate) / w.lastWindow : 0, hidden: true };
}

/** Per-record times of several runs, weighted by their records. */
export function combineMeasurements(
  runs: readonly { runId: string; records: number; ms: number }[],
): { ms: number; runs: string[] } | null {
  const total = runs.reduce((s, r) => s + r.records, 0);
  if (total <= 0) return null;
  return { ms: runs.reduce((s, r) => s + r.ms * r.records, 0) / total, runs: runs.map((r) => r.runId) };
}

export interface EtaInput {
  flow: Flow;
  /** Records the run will read (as estimated before it), or null. */
  total: number | null;
  /** Records settled so far. */
  settled: number;
  now: number;
  /**
   * The recent window: the read positions and settle times of an earlier and of the latest settled record
   * (a window of a few hundred records), or null before two have settled.
   */
  window: { fromSeq: number; fromAt: number; toSeq: number; toAt: number } | null;
  /** The per-record time measured in earlier runs, used until the run has its own window. */
  fallbackMsPerRecord?: number | null;
  /** The end of the wait the run is in now (a delay or a rate limit), if it is waiting. */
  waitingUntil?: number | null;
}

export interface Eta {
  remainingMs: number;
  /** When the run should finish (ms since the epoch). */
  at: number;
  /** The processing rate seen in the recent window (records per second), null when taken from earlier runs. */
  recordsPerSecond: number | null;
}

/**
 * The time left of a running run: its remaining records at the rate of the recent window (records
 * settled per second of processing, the delays' waits inside the window taken out) plus the waits its
 * delays still owe. Null when the record count is unknown, or the run read more than it was expected to.
 */
export function runEta(input: EtaInput): Eta | null {
  const { flow, total, settled, now } = input;
  if (total === null || settled > total) return null;
  const gates = gatesOf(flow);
  let p: number | null = null;
  let recordsPerSecond: number | null = null;
  const w = input.window;
  if (w && w.toSeq > w.fromSeq && w.toAt >= w.fromAt) {
    let waited = 0;
    for (const g of gates)
      if (g.mode === 'fixed')
        waited += (Math.floor(w.toSeq / g.groupSize) - Math.floor(w.fromSeq / g.groupSize)) * g.ms;
    const busy = Math.max(0, w.toAt - w.fromAt - waited);
    p = busy / (w.toSeq - w.fromSeq);
    recordsPerSecond = p > 0 ? 1000 / p : null;
  }
  if (p === null) p = input.fallbackMsPerRecord ?? null;
  if (p === null) return null;
  const remaining = total - settled;
  const current = input.waitingUntil && input.waitingUntil > now ? input.waitingUntil - now : 0;
  let fixed = 0;
  let rate = 0;
  for (const g of gates) {
    if (g.mode === 'fixed') {
      const groups = Math.ceil(total / g.groupSize);
      const done = Math.floor(settled / g.groupSize);
      fixed += Math.max(0, groups - done - 1) * g.ms;
    } else rate = Math.max(rate, Math.max(0, Math.ceil(remaining / g.records) - 1) * g.intervalMs);
  }
  const remainingMs = remaining === 0 ? 0 : Math.round(Math.max(remaining * p, rate) + fixed + current);
  return { remainingMs, at: now + remainingMs, recordsPerSecond };
}

// ---- words -------------------------------------------------------------------------------------------

const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US');

/** A duration in words: "850 ms", "4.2 s", "3 min 20 s", "2 h 5 min". */
export function fmtMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 10_000) return `${(ms / 1000).toFixed(1).replace(/\.0$/, '')} s`;
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ''}`;
  const m = Math.round(s / 60);
  return `${Math.floor(m / 60)} h${m % 60 ? ` ${m % 60} min` : ''}`;
}

function fmtPerRecord(ms: number): string {
  if (ms >= 100) return fmtMs(ms);
  if (ms >= 1) return `${ms.toFixed(1)} ms`;
  return `${(ms * 1000).toFixed(0)} µs`;
}
