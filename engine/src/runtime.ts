import type { FlowNode, NodeParams, NodeTypeName, RecordError } from '@sluice/shared';
import type { Breaker } from './breaker.js';
import type { ChangeHashes, Clock, CodeSandbox, Connectors, InputSource, Permit, Waiting } from './ports.js';

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
  /** For a part of a record (a split element): its index. What a collect node keeps of parts is a list per record. */
  part?: number;
}

/** What every node can do while it runs: know where it is, send records on, wait at boundaries. */
export interface NodeContext {
  readonly node: FlowNode;
  readonly runId: string;
  readonly clock: Clock;
  readonly signal: AbortSignal;
  /** Sends items out of a port and resolves when everything downstream has finished with them. */
  emit(port: string, items: Item[]): Promise<void>;
  /** A record boundary: waits here while the run is paused. */
  boundary(): Promise<void>;
}

/** Says why the node is waiting (shown in the run's status), or that it no longer is. */
export type ReportWaiting = (waiting: Omit<Waiting, 'nodeId'> | null) => void;

/** What a node that calls other systems uses: connectors, their circuit breakers, jitter. */
export interface SystemAccess {
  readonly connectors: Connectors;
  readonly random: () => number;
  readonly waiting: ReportWaiting;
  /** The circuit breaker of a connection, shared with every run that uses it. */
  breaker(connection: string): Breaker;
  /**
   * Leave to send one request on a connection within its limits (at once when it has none); the
   * node is shown waiting while it waits longer than a moment. Release it once the answer is in.
   * Throws Cancelled when the run stops while it waits.
   */
  permit(connection: string): Promise<Permit>;
}

/** Sources (and a trigger that brings records): read pages of records into the run. */
export interface SourceContext extends NodeContext, SystemAccess {
  /**
   * Reads one page of records (giving them keys and sequence numbers) and emits them, in chunks that
   * keep the records in flight within the flow's limit. `cursor` says how to fetch this page again
   * when a resumed run re-reads from it.
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
  /** Where to start reading when the run resumes (the cursor of a page), else undefined. */
  startCursor(): unknown;
}

/** Batch and delay: cut records into batches and pace them. */
export interface FlowControlContext extends NodeContext {
  readonly waiting: ReportWaiting;
  /** Opens batch number n (from 1); outcomes settled until endBatch belong to it. */
  beginBatch(size: number): number;
  /** Batch n finished downstream: its outcomes, counts and a checkpoint are committed. */
  endBatch(batchNo: number): Promise<void>;
  /** A delay let batch n through now: its processing (and its stored start) begins here. */
  batchReleased(batchNo: number): void;
  /** When the last batch finished, if any has. */
  lastBatchEnd(): number | undefined;
}

/** Filter, branch, map, error branch: judge each record, and fail or drop it. */
export interface TransformContext extends NodeContext {
  /** Sends one item out of the `error` port with what went wrong. */
  fail(item: Item, error: RecordError, attempts: number): Promise<void>;
  /** The items are dropped by this node and count as filtered. */
  drop(items: Item[]): void;
}

/** A record a shaping node makes: its key, its data. */
export interface NewRecord {
  key: string;
  data: Record<string, unknown>;
}

/**
 * Split, aggregate, dedupe and code: what a transform does, and make records of records. See
 * docs/semantics.md ("Record shaping") for how each way of making records is counted.
 */
export interface ShapingContext extends TransformContext {
  /**
   * Sends `parts` on as paths of `item` (split elements): the record settles once every part's path
   * has ended. The node's `out` counts the record once, however many parts it has.
   */
  emitParts(item: Item, parts: NewRecord[]): Promise<void>;
  /** The items are dropped by this node and count as filtered, each with the reason (kept with its outcome). */
  dropWith(items: Item[], reason: (item: Item) => RecordError): void;
  /** The item's path ends here as one the node took in (counted in its `out`): aggregated. */
  absorb(items: Item[]): void;
  /**
   * Places for `n` new records, after every record the run has read or made so far (and every one a
   * resumed run stored): the first of them. Keep it in the node's state to make the same records again
   * after a resume.
   */
  reserve(n: number): number;
  /**
   * Makes new records at the places `seq` (from `reserve`), counted as read by the run, and emits
   * them; those a resumed run already stored are skipped. The node's `out` does not count them.
   */
  create(records: (NewRecord & { seq: number })[]): Promise<void>;
  /** Calls `handler` when a batch has finished upstream, before it is committed (nodes in flow order). */
  onBatchEnd(handler: (batchNo: number) => Promise<void>): void;
  /** SHA-256 of a text, 64 hex digits. */
  hash(text: string): string;
  /** Changed-only hashes for this run (a test run reads them and stages nothing), if the server gave them. */
  readonly changes: ChangeHashes | undefined;
  /** The sandbox that runs code nodes' JavaScript, if the server gave one. */
  readonly sandbox: CodeSandbox | undefined;
}

/** Writes and sinks: end records' paths, keep their data, or fail them. */
export interface WriteContext extends NodeContext, SystemAccess {
  /** Sends one item out of the `error` port with what went wrong. */
  fail(item: Item, error: RecordError, attempts: number): Promise<void>;
  /** The items' path ends here successfully. */
  done(items: Item[]): void;
  /** Keeps items' data with the run (collect sinks). */
  collect(items: Item[], data: (item: Item) => unknown): void;
  /**
   * Stores the node's state (`NodeRuntime.state`) as it is now with the run's last checkpoint, and
   * resolves once it is stored: for a node that must know after a crash what it is about to change
   * outside the run (the file sink: where its file ended before it first wrote to it).
   */
  saveState(): Promise<void>;
  /** Counts lookups answered from the node's cache (shown with its counts as `cacheHits`). */
  countCacheHits(n: number): void;
}

/** The context each role of node is given; a node reaches only its role's members. */
export interface ContextByRole {
  trigger: NodeContext;
  source: SourceContext;
  'flow-control': FlowControlContext;
  transform: TransformContext;
  shaping: ShapingContext;
  write: WriteContext;
}

export type NodeRole = keyof ContextByRole;

export interface NodeRuntime {
  /** Handles items arriving at the node's input. */
  process(items: Item[]): Promise<void>;
  /** Called once upstream has no more items, in topological order: flush what is buffered. */
  finish?(): Promise<void>;
  /** State to keep in a checkpoint (JSON), handed back to the factory when the run resumes. */
  state?(): unknown;
}

/**
 * Starts the implementation of one node type: given the context of its role, its parameters as the
 * catalogue's schema types them (a validated flow's), and its state from a checkpoint on resume.
 */
export type NodeFactory<T extends NodeTypeName, C extends NodeContext = NodeContext> = (
  ctx: C,
  params: NodeParams<T>,
  restored?: unknown,
) => NodeRuntime;

/** Makes the context of a role for the node being started (only the one its role names). */
export type ContextMaker = <R extends NodeRole>(role: R) => ContextByRole[R];

/** A node type's implementation: the role it runs in, and how it starts. */
export interface NodeImplementation<T extends NodeTypeName> {
  readonly role: NodeRole;
  readonly start: (contextFor: ContextMaker, params: NodeParams<T>, restored: unknown) => NodeRuntime;
}

/** Pairs a factory with the role whose context it is given. */
export function implement<R extends NodeRole, T extends NodeTypeName>(
  role: R,
  factory: NodeFactory<T, ContextByRole[R]>,
): NodeImplementation<T> {
  return { role, start: (contextFor, params, restored) => factory(contextFor(role), params, restored) };
}
