import type { Flow, NodeCounts, RunCounts } from '@sluice/shared';
import type { BreakerRegistry } from '../breaker.js';
import type { Gate } from '../gate.js';
import type {
  ChangeHashes,
  Clock,
  Connectors,
  InputSource,
  ReplaySource,
  ResumeState,
  RunEvent,
  RunStore,
  Runtime,
  Watermarks,
} from '../ports.js';
import type { NodeTestData, TestOptions } from './test-run.js';

/** What one execution of a flow is given; `startRun` takes the same, less the signal and the gate it makes. */
export interface ExecutionOptions {
  runId: string;
  /** A flow that passed `validateFlow` (defaults applied). */
  flow: Flow;
  clock: Clock;
  /** Hashing and yielding to the event loop, as the runtime provides them (`testRuntime` in tests). */
  runtime: Runtime;
  store: RunStore;
  connectors: Connectors;
  signal: AbortSignal;
  /** Closed while the run is paused. */
  gate?: Gate;
  random?: () => number;
  onEvent?: (event: RunEvent) => void;
  /** Breakers shared with other runs of the process; a private registry when absent. */
  breakers?: BreakerRegistry;
  /** Where a run that was interrupted goes on from (a checkpoint, after the process that ran it died). */
  resume?: ResumeState;
  /** For a retry run: the failed records to feed into the nodes where they failed, instead of the triggers. */
  replay?: ReplaySource;
  /** Records the run was started with (a webhook's body), read by the trigger that brings records. */
  inputs?: InputSource;
  /** Incremental sync: the stored watermark of each source node (see `WatermarkState`). */
  watermarks?: Watermarks;
  /** Changed-only nodes' hashes for this run; absent: such nodes fail their records, saying so. */
  changes?: ChangeHashes;
  /** A test run (see `TestOptions`); absent for every real run. */
  test?: TestOptions;
}

export interface ExecutionResult {
  /** completed: every record was read and settled; stopped: a failure stopped the run; cancelled: on request. */
  end: 'completed' | 'stopped' | 'cancelled';
  error?: string;
  counts: RunCounts;
  nodeCounts: Record<string, NodeCounts>;
  /**
   * The watermark of each incremental source after this run (the largest value read, or the one it
   * started from). Reported whatever the end; only a completed run's should be stored.
   */
  watermarks?: Watermarks;
  /** A test run: what each node received, emitted and failed, by node id. */
  test?: Record<string, NodeTestData>;
}
