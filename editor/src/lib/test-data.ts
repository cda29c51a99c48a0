/**
 * The data of the last test run, kept in the browser so switching nodes is instant: what each node
 * received, emitted and failed. Anything that wants sample records (expression previews, the
 * inspector's texts, autocompletion) reads them here through `useTestData()` and `inputRecords()`,
 * which fall back to the flow's pinned data when no test has run.
 */
import type { Flow, NodeCounts, NodeTestData } from '@sluice/shared';
import { useSyncExternalStore } from 'react';

export type { NodeTestData };

export interface TestDataState {
  /** The flow the test ran (a flow id), null before any test. */
  flowId: string | null;
  runId: string | null;
  /** idle: no test yet; running: started, not finished; done: `nodes` holds its data; failed: see `error`. */
  status: 'idle' | 'running' | 'done' | 'failed';
  /** Why the test could not run, or why it stopped (the run's error). */
  error: string | null;
  /** By node id: input, output (a write not sent: its would-be requests), failed with reasons. */
  nodes: Readonly<Record<string, NodeTestData>>;
  /** When the test finished (ms), for "tested 5 s ago". */
  at: number | null;
  /** The test run's counts per node (in, out, error, filtered), as a run's; absent before one finished. */
  nodeCounts?: Readonly<Record<string, NodeCounts>>;
}

const IDLE: TestDataState = { flowId: null, runId: null, status: 'idle', error: null, nodes: {}, at: null };

let state: TestDataState = IDLE;
const listeners = new Set<() => void>();

/** Replaces the last test's data (the test-run hook does this; tests may too). */
export function setTestData(next: TestDataState): void {
  state = next;
  for (const l of listeners) l();
}

export function getTestData(): TestDataState {
  return state;
}

export function resetTestData(): void {
  setTestData(IDLE);
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The last test's data, for `flowId` only (another flow's test is not this flow's sample). */
export function useTestData(flowId?: string): TestDataState {
  const current = useSyncExternalStore(subscribe, getTestData, getTestData);
  return flowId === undefined || current.flowId === flowId ? current : IDLE;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The records a node receives, for previews and autocompletion: its input in the last test, else
 * the pinned data (or, for a node fed by one, the last test's output) of the nodes feeding it.
 */
export function inputRecords(data: TestDataState, doc: Flow, nodeId: string): Record<string, unknown>[] {
  const own = data.nodes[nodeId]?.input.filter(isRecord);
  if (own?.length) return own;
  for (const e of doc.edges) {
    if (e.target !== nodeId) continue;
    const pinned = doc.pinned?.[e.source];
    if (pinned?.length) return pinned;
    const out = data.nodes[e.source];
    if (out && !out.dryRun && out.output.length) return out.output.filter(isRecord);
  }
  return [];
}

/** Field paths of records (dotted for nested objects), in first-seen order: columns and autocompletion. */
export function fieldPaths(records: readonly unknown[], nested = true, prefix = ''): string[] {
  const seen = new Set<string>();
  for (const r of records.slice(0, 200)) {
    if (!isRecord(r)) continue;
    for (const [k, v] of Object.entries(r)) {
      const p = prefix ? `${prefix}.${k}` : k;
      seen.add(p);
      if (nested && isRecord(v)) for (const sub of fieldPaths([v], true, p)) seen.add(sub);
    }
  }
  return [...seen];
}

/** What a node did in the last test, in words, or undefined when it has no data from one. */
export function testedText(data: TestDataState, nodeId: string): string | undefined {
  const d = data.nodes[nodeId];
  if (!d || data.status !== 'done') return undefined;
  if (d.pinned) return `In the last test it gave its ${d.output.length} pinned records instead of being read.`;
  const parts = [`${d.input.length} in`];
  parts.push(d.dryRun ? `${d.output.length} request(s) not sent` : `${d.output.length} out`);
  if (d.failed.length) parts.push(`${d.failed.length} failed (${d.failed[0]?.error ?? ''})`);
  return `In the last test: ${parts.join(', ')}${d.truncated ? ' (lists cut short)' : ''}.`;
}
