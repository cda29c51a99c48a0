import type { FlowNode, RecordError } from '@sluice/shared';
import type { Clock, Connectors } from './ports.js';

/** One record on its way through a run. Nodes never mutate `data`; they emit new objects. */
export interface Item {
  /** Position in the run's read order; -1 for the activation a trigger sends to sources. */
  seq: number;
  key: string;
  data: Record<string, unknown>;
  /** The record as the source read it. */
  source: Record<string, unknown>;
  batchNo: number;
  attempts: number;
  error?: RecordError;
  failedAt?: string;
  /** The record as it entered the node where it failed. */
  payload?: Record<string, unknown>;
}

/** What a node can do while it runs: read, emit, fail or settle records, and mark batches. */
export interface NodeContext {
  readonly node: FlowNode;
  readonly runId: string;
  readonly clock: Clock;
  readonly connectors: Connectors;
  readonly signal: AbortSignal;
  readonly random: () => number;
  /** Sends items out of a port and resolves when everything downstream has finished with them. */
  emit(port: string, items: Item[]): Promise<void>;
  /** Sends one item out of the `error` port with what went wrong. */
  fail(item: Item, error: RecordError, attempts: number): Promise<void>;
  /** The items' path ends here successfully (sinks). */
  done(items: Item[]): void;
  /** The items are dropped by this node and count as filtered. */
  drop(items: Item[]): void;
  /** Keeps items' data with the run (collect sinks). */
  collect(items: Item[], data: (item: Item) => unknown): void;
  /** Turns records read by a source into tracked items with keys and sequence numbers. */
  read(records: Record<string, unknown>[], keyField: string | undefined): Item[];
  /** Opens batch number n (from 1); outcomes settled until endBatch belong to it. */
  beginBatch(size: number): number;
  endBatch(batchNo: number): Promise<void>;
  /** A delay let batch n through now: its processing (and its stored start) begins here. */
  batchReleased(batchNo: number): void;
  /** When the last batch finished, if any has. */
  lastBatchEnd(): number | undefined;
}

export interface NodeRuntime {
  /** Handles items arriving at the node's input. */
  process(items: Item[]): Promise<void>;
  /** Called once upstream has no more items, in topological order: flush what is buffered. */
  finish?(): Promise<void>;
}

export type NodeFactory = (ctx: NodeContext, params: Record<string, unknown>) => NodeRuntime;

/** Builds the table of node implementations, refusing two for one type. */
export function createRuntimeRegistry(entries: readonly [string, NodeFactory][]): ReadonlyMap<string, NodeFactory> {
  const table = new Map<string, NodeFactory>();
  for (const [type, factory] of entries) {
    if (table.has(type)) throw new Error(`node type "${type}" has two implementations`);
    table.set(type, factory);
  }
  return table;
}
