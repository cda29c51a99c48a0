import { BreakerRegistry } from '../breaker.js';
import { Cancelled } from '../clock.js';
import { Gate } from '../gate.js';
import type { Runtime } from '../ports.js';
import { RecordTracker } from '../tracker.js';
import type { ExecutionOptions } from './options.js';
import { TestCapture } from './test-run.js';

/** The longest stretch of work between two turns of the event loop, in milliseconds. */
const YIELD_EVERY_MS = 4;

/**
 * The mutable state of one run that the executor's parts share: the records in flight, positions
 * (next sequence and batch numbers), what a resumed run starts from, and how the run stops.
 */
export class RunState {
  readonly tracker: RecordTracker;
  /** Aborted when the run is cancelled or must stop; every wait of the run listens to it. */
  readonly control = new AbortController();
  readonly gate: Gate;
  readonly breakers: BreakerRegistry;
  /** Connections whose breaker the run used: their states go into checkpoints. */
  readonly connectionsUsed = new Set<string>();
  /** Sources that have read everything (they take no more activations; see `sourcesSettled`). */
  readonly sourcesDone: Set<string>;
  /** Past the last record each source read, for those that finished in this life. */
  private readonly sourceEnds = new Map<string, number>();
  /** Batches open now, with when each started (when a delay released it, else when it was cut). */
  readonly openBatches = new Map<number, number>();
  nextSeq: number;
  nextBatch: number;
  lastBatchEnd: number | undefined;
  /** Set when a record's failure stops the run (settings.onError = "stop"). */
  stopReason: string | undefined;
  /** A test run's capture of every node's data; undefined in real runs. */
  readonly capture: TestCapture | undefined;
  /** "Test to here": the nodes that run; undefined: all. */
  runs: Set<string> | undefined;
  /** Shaping nodes to tell when a batch has finished upstream, in flow order (see `ShapingContext.onBatchEnd`). */
  readonly batchEndHandlers: { order: number; handler: (batchNo: number) => Promise<void> }[] = [];
  private readonly settledBefore: ReadonlySet<number>;
  private readonly resumeLowWater: number;
  /** Past every place a resumed run's stored outcomes hold. */
  private readonly storedEnd: number;
  private readonly runtime: Runtime;
  private lastYield: number;

  constructor(o: ExecutionOptions) {
    this.runtime = o.runtime;
    this.capture = o.test ? new TestCapture(o.test) : undefined;
    this.lastYield = o.runtime.monotonicNow();
    const cp = o.resume?.checkpoint;
    this.tracker = new RecordTracker(
      () => o.clock.now(),
      o.flow.nodes.map((n) => n.id),
      o.resume,
    );
    this.gate = o.gate ?? new Gate();
    this.breakers = o.breakers ?? new BreakerRegistry(o.clock);
    this.sourcesDone = new Set(cp?.sourcesDone ?? []);
    this.settledBefore = o.resume?.settled ?? new Set();
    this.resumeLowWater = cp?.lowWater ?? 0;
    let storedEnd = this.resumeLowWater;
    for (const seq of this.settledBefore) if (seq >= storedEnd) storedEnd = seq + 1;
    this.storedEnd = storedEnd;
    this.nextSeq = cp?.position?.firstSeq ?? cp?.lowWater ?? 0;
    this.nextBatch = cp?.nextBatch ?? 1;
    this.lastBatchEnd = cp?.lastBatchEnd;
    if (o.signal.aborted) this.control.abort();
    else o.signal.addEventListener('abort', () => this.control.abort(), { once: true });
  }

  /** A source has read everything: every record it read has a place below `nextSeq`. */
  sourceFinished(nodeId: string): void {
    this.sourcesDone.add(nodeId);
    this.sourceEnds.set(nodeId, this.nextSeq);
  }

  /**
   * The sources a checkpoint with this low-water mark may record as done (a resumed run does not
   * start them again): those every record of which has settled. A source that has read everything
   * while a batch node still holds some of its records is read again from the checkpoint's position.
   */
  sourcesSettled(lowWater: number): string[] {
    return [...this.sourcesDone].filter((id) => (this.sourceEnds.get(id) ?? 0) <= lowWater);
  }

  /** Whether the record at `seq` was settled and stored before the run resumed (it is skipped). */
  settledEarlier(seq: number): boolean {
    return seq < this.resumeLowWater || this.settledBefore.has(seq);
  }

  /**
   * Places for `n` records a shaping node makes, past every record read or made so far and every
   * place a resumed run found stored: the first of them.
   */
  reserve(n: number): number {
    const first = Math.max(this.nextSeq, this.storedEnd);
    this.nextSeq = first + n;
    return first;
  }

  /**
   * A record boundary: lets the process's other work run if it is due, waits while the run is
   * paused, and throws Cancelled once the run is stopping.
   */
  async boundary(): Promise<void> {
    await this.pace();
    if (this.gate.isClosed) await this.gate.pass(this.control.signal);
    if (this.control.signal.aborted) throw new Cancelled();
  }

  /**
   * Lets the process's other work run (the API, lease renewals, other runs) once `YIELD_EVERY_MS` of
   * work have passed since it last could: a flow with no I/O of its own, or records whose expressions
   * run to their time limit, would otherwise hold the event loop until their batch is done.
   */
  async pace(): Promise<void> {
    if (this.runtime.monotonicNow() - this.lastYield < YIELD_EVERY_MS) return;
    await this.runtime.yield();
    this.lastYield = this.runtime.monotonicNow();
  }

  /** Stops the run because of a record's failure, with the reason the run fails with. */
  stop(reason: string): void {
    this.stopReason = reason;
    this.control.abort();
  }
}
