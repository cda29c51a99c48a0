import type { FlowNode, NodeParams, NodeTypeName, RecordError } from '@sluice/shared';
import type { Breaker } from './breaker.js';
import type { Clock, Connectors, InputSource, Waiting } from './ports.js';

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
  /** Per-node count increments on this path (see tracker.ts), applied when the record settles. */
  hops: number[];
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
  /**
   * Sources: reads one page of records (giving them keys and sequence numbers) and emits them, in
   * chunks that keep the records in flight within the flow's limit. `cursor` says how to fetch this
   * page again when a resumed run re-reads from it.
   */
  emitPage(
    records: Record<string, unknown>[],
    keyField: string | undefined,
    cursor: unknown,
    /** Records (by index) the source could not read: they fail at the source instead of going on. */
    failures?: ReadonlyMap<number, RecordError>,
  ): Promise<void>;
  /** The records the run was started with (a webhook's body), if any. */
  inputs(): InputSource | undefined;
  /** Sources: where to start reading when the run resumes (the cursor of a page), else undefined. */
  startCursor(): unknown;
  /** Opens batch number n (from 1); outcomes settled until endBatch belong to it. */
  beginBatch(size: number): number;
  endBatch(batchNo: number): Promise<void>;
  /** A delay let batch n through now: its processing (and its stored start) begins here. */
  batchReleased(batchNo: number): void;
  /** When the last batch finished, if any has. */
  lastBatchEnd(): number | undefined;
  /** A record boundary: waits here while the run is paused. */
  boundary(): Promise<void>;
  /** Says why the node is waiting (shown in the run's status), or that it no longer is. */
  waiting(waiting: Omit<Waiting, 'nodeId'> | null): void;
  /** The circuit breaker of a connection, shared with every run that uses it. */
  breaker(connection: string): Breaker;
}

export interface NodeRuntime {
  /** Handles items arriving at the node's input. */
  process(items: Item[]): Promise<void>;
  /** Called once upstream has no more items, in topological order: flush what is buffered. */
  finish?(): Promise<void>;
  /** State to keep in a checkpoint (JSON), handed back to the factory when the run resumes. */
  state?(): unknown;
}

/**
 * Starts the implementation of one node type: given its parameters as the catalogue's schema types
 * them (a validated flow's), and its state from a checkpoint when the run resumes.
 */
export type NodeFactory<T extends NodeTypeName> = (
  ctx: NodeContext,
  params: NodeParams<T>,
  restored?: unknown,
) => NodeRuntime;
