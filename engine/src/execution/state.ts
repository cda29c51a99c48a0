import { BreakerRegistry } from '../breaker.js';
import { Cancelled } from '../clock.js';
import { Gate } from '../gate.js';
import { RecordTracker } from '../tracker.js';
import type { ExecutionOptions } from './options.js';

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
  /** Sources that have read everything (a resumed run does not start them again). */
  readonly sourcesDone: Set<string>;
  /** Batches open now, with when each started (when a delay released it, else when it was cut). */
  readonly openBatches = new Map<number, number>();
  nextSeq: number;
  nextBatch: number;
  lastBatchEnd: number | undefined;
  /** Set when a record's failure stops the run (settings.onError = "stop"). */
  stopReason: string | undefined;
  private readonly settledBefore: ReadonlySet<number>;
  private readonly resumeLowWater: number;

  constructor(o: ExecutionOptions) {
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
    this.nextSeq = cp?.position?.firstSeq ?? cp?.lowWater ?? 0;
    this.nextBatch = cp?.nextBatch ?? 1;
    this.lastBatchEnd = cp?.lastBatchEnd;
    if (o.signal.aborted) this.control.abort();
    else o.signal.addEventListener('abort', () => this.control.abort(), { once: true });
  }

  /** Whether the record at `seq` was settled and stored before the run resumed (it is skipped). */
  settledEarlier(seq: number): boolean {
    return seq < this.resumeLowWater || this.settledBefore.has(seq);
  }

  /** A record boundary: waits while the run is paused; throws Cancelled once the run is stopping. */
  async boundary(): Promise<void> {
    if (this.gate.isClosed) await this.gate.pass(this.control.signal);
    if (this.control.signal.aborted) throw new Cancelled();
  }

  /** Stops the run because of a record's failure, with the reason the run fails with. */
  stop(reason: string): void {
    this.stopReason = reason;
    this.control.abort();
  }
}
