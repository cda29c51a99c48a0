import { EventEmitter } from 'node:events';
import {
  BreakerRegistry,
  type ChangeHashes,
  type Clock,
  type Connectors,
  checkFlowForRun,
  type RunEvent,
  type RunHandle,
  type RunResult,
  type RunStore,
  type Runtime,
  startRun,
} from '@sluice/engine';
import {
  emptyRunCounts,
  type Flow,
  isFinalRunStatus,
  type NodeCounts,
  type RunDetail,
  type RunStatus,
  type TriggerKind,
} from '@sluice/shared';
import { ConflictError, DomainError, InvalidError, InvalidFlowError, NotFoundError } from '../errors.js';
import type { FlowRepository } from '../flows/repository.js';
import type { Logger } from '../logger.js';
import {
  type ChangeHashRows,
  type ControlVerb,
  type EventBus,
  LeaseLostError,
  type LeaseStore,
  type RetrySelection,
  type RunQueries,
  type RunWriteStore,
} from '../storage/port.js';
import type { RunSpanEnd, RunTracing, TraceHeaders } from '../tracing/types.js';
import { TestRunData } from './test-runs.js';

/** What a test run is asked for: the document to run (a draft, saved or not) and how. */
export interface TestRequest {
  flowId: string | null;
  document: unknown;
  limit: number;
  sendWrites: boolean;
  until?: string;
}

export interface EnqueueOptions {
  /** Which version runs: the latest saved (default for manual runs), the published one, or a number. */
  version?: 'latest' | 'published' | number;
  /** Records the run starts with (a webhook's body). */
  inputs?: readonly unknown[];
  /** A scheduled run's slot. */
  scheduledFor?: number;
  /** The trace context the run was asked for in (a webhook call's traceparent): its span joins that trace. */
  trace?: TraceHeaders;
}

export interface RunnerOptions {
  flows: FlowRepository;
  runs: RunQueries;
  /** Changed-only nodes' hashes; none: such nodes fail their records, saying so. */
  changes?: ChangeHashRows;
  store: RunWriteStore;
  leases: LeaseStore;
  connectors: Connectors;
  /**
   * Loads the connections a flow names before its run starts (the engine looks them up
   * synchronously in `connectors`); none: `connectors` answers on its own.
   */
  connections?: { preload(names: Iterable<string>): Promise<void> };
  clock: Clock;
  /** Hashing and yielding for the engine (Node's). */
  runtime: Runtime;
  /** Runs executing at once in this process; further runs wait `queued`. */
  concurrency?: number;
  /** Runs of one flow executing at once (across processes); further runs of it wait `queued`. */
  perFlow?: number;
  /** How often to look for runs to pick up (queued, or abandoned by a dead process). */
  scanMs?: number;
  /** Lines about a run are logged by a child carrying its run and flow ids. */
  logger: Logger;
  /**
   * Wake-ups for new runs between processes: a queued run is announced, and an announcement starts a
   * scan at once (the periodic scan stays, for an announcement lost); none: the scan alone.
   */
  wake?: Pick<EventBus, 'notifyQueued' | 'onQueued' | 'notifyControl' | 'onControl'>;
  /**
   * Whether this process claims queued runs (and runs abandoned by a dead process); default true.
   * False for a process that serves only the API (`sluice serve --no-worker`): what it queues waits
   * for a worker. Its test runs still execute here, since their draft lives only in its request.
   */
  claims?: boolean;
  /** Spans of runs, batches and nodes (OpenTelemetry); none: nothing traced. */
  tracing?: RunTracing;
  /** Follows each run executing here, its events and its end (the metrics); none: nobody. */
  observer?: RunObserver;
}

/**
 * What follows the runs executing in this process (`Metrics`): told when one starts or is taken up
 * again, with what it runs, then of its events and its end (none: it stopped here without ending).
 */
export interface RunObserver {
  observeRun(run: {
    runId: string;
    flowId: string | null;
    trigger: TriggerKind;
    flow: Flow;
    startedAt?: number | null;
    resumedNodeCounts?: Record<string, NodeCounts>;
  }): {
    event(event: RunEvent): void;
    end(result: { status: RunStatus; nodeCounts?: Record<string, NodeCounts> } | undefined): void;
  };
}

/**
 * The run queue. A started run is stored `queued` and its id returned at once; this process claims
 * queued runs (and runs whose executor died) through leases, up to the concurrency limit, and
 * resumes interrupted ones from their checkpoint. It keeps the handles of its runs for control.
 */
export class Runner {
  private readonly active = new Map<string, RunHandle>();
  /** The flow of each run executing here, for the per-flow limit. */
  private readonly activeFlows = new Map<string, string | null>();
  private readonly waiters = new Map<string, ((r: RunResult) => void)[]>();
  /** The circuit breakers of the connections this process calls, shared by its runs (and, through storage, with other processes). */
  readonly breakers: BreakerRegistry;
  private unwake: (() => void)[] = [];
  private readonly concurrency: number;
  private readonly testData = new TestRunData();
  /** Test runs executing here: they cannot be resumed elsewhere (their document lived in the request). */
  private readonly tests = new Set<string>();
  /**
   * Runs executing here whose lease another process has taken: they are stopped here without
   * writing anything more (the new holder owns the run), and their events are not passed on.
   */
  private readonly lost = new Set<string>();
  /** Runs this process has claimed and is starting (not yet executing). */
  private readonly starting = new Set<string>();
  /** Of those, the ones a control (pause, resume, cancel) arrived for while they started: applied as soon as they execute. */
  private readonly wanted = new Map<string, ControlVerb>();
  private timers: NodeJS.Timeout[] = [];
  private stopped = false;
  /** A pump is under way; `again`: another was asked for meanwhile. */
  private pumping = false;
  private again = false;
  readonly events = new EventEmitter();

  constructor(private readonly o: RunnerOptions) {
    this.concurrency = o.concurrency ?? 4;
    this.breakers = new BreakerRegistry(o.clock);
    this.events.setMaxListeners(0);
    o.store.onLeaseLost = (runId) => this.lose(runId);
  }

  /** Starts picking up runs: now, and every `scanMs`; renews this process's leases meanwhile. */
  start(): void {
    void this.pump();
    const wake = this.o.wake;
    if (wake) {
      this.unwake.push(wake.onQueued(() => void this.pump()));
      // a control asked by another process for a run executing (or starting) here is taken up at once
      this.unwake.push(
        wake.onControl((runId) => {
          if (this.active.has(runId) || this.starting.has(runId)) void this.takeControls([runId]);
        }),
      );
    }
    const scan = this.o.scanMs ?? 2000;
    this.timers.push(setInterval(() => void this.pump(), scan).unref());
    this.timers.push(setInterval(() => void this.renew(), this.o.leases.ttlMs / 3).unref());
  }

  /**
   * Renews the leases of the runs executing here; stops those whose lease another process took. Takes
   * up the controls other processes asked for meanwhile, should their news have been lost.
   */
  private async renew(): Promise<void> {
    try {
      for (const runId of await this.o.leases.renew([...this.active.keys()])) this.lose(runId);
    } catch (err) {
      this.o.logger.error({ err }, 'the leases of the runs executing here could not be renewed; tried again shortly');
    }
    await this.takeControls([...this.active.keys()]);
  }

  /**
   * Applies the pauses, resumes and cancels other processes asked for these runs (held here): to a
   * run executing, now; to one starting, as soon as it executes.
   */
  private async takeControls(runIds: readonly string[]): Promise<void> {
    if (runIds.length === 0) return;
    let taken: { runId: string; verb: ControlVerb }[];
    try {
      taken = await this.o.leases.takeControls(runIds);
    } catch (err) {
      this.o.logger.warn({ err }, 'the controls asked for runs executing here could not be read; read again shortly');
      return;
    }
    for (const { runId, verb } of taken) {
      this.runLog(runId, this.activeFlows.get(runId) ?? null).info({ verb }, `${verb} asked by another process`);
      const handle = this.active.get(runId);
      if (handle) applyControl(handle, verb);
      else this.wanted.set(runId, verb);
    }
  }

  /**
   * Stops a run whose lease this process no longer holds, writing nothing more for it: its store
   * drops what the engine still hands over (the stored run is the new holder's), and its waiters
   * are left to the process that finishes it.
   */
  private lose(runId: string): void {
    const handle = this.active.get(runId);
    if (!handle || this.lost.has(runId)) return;
    this.lost.add(runId);
    this.runLog(runId, this.activeFlows.get(runId) ?? null).warn(
      "the run's lease was taken by another process; it stops here and goes on there",
    );
    handle.cancel();
  }

  /**
   * The run store as one run sees it: once the run is lost, nothing more is written, and a write
   * refused for the lost lease is not the engine's failure (the run is being stopped here for it).
   */
  private storeFor(runId: string): RunStore {
    const store = this.o.store;
    const ignoreLost = (err: unknown): void => {
      if (!(err instanceof LeaseLostError)) throw err;
    };
    // a write answers as the store does (at once or later), less the refusals for the lost lease
    const unlessLost = (write: () => void | Promise<void>): void | Promise<void> => {
      if (this.lost.has(runId)) return;
      try {
        const written = write();
        return written instanceof Promise ? written.catch(ignoreLost) : written;
      } catch (err) {
        ignoreLost(err);
      }
    };
    return {
      commit: (id, commit) => (this.lost.has(runId) ? undefined : store.commit(id, commit)),
      setStatus: (id, update) => unlessLost(() => store.setStatus(id, update)),
      setWaiting: (id, waiting) => unlessLost(() => store.setWaiting(id, waiting)),
      // a node waits for this before it changes something outside the run: not once the lease is lost
      flush: async (id) => {
        await store.flush(id);
        if (this.lost.has(runId)) throw new LeaseLostError(runId);
      },
    };
  }

  /** Loads the connections the flow's nodes name, for the engine's synchronous lookups. */
  private async preload(flow: Flow): Promise<void> {
    if (!this.o.connections) return;
    const names = flow.nodes
      .map((n) => (n.params as { connection?: unknown }).connection)
      .filter((c): c is string => typeof c === 'string' && c !== '');
    await this.o.connections.preload(names);
  }

  /**
   * Queues a run of a flow version (the latest unless told otherwise) and returns its id at once;
   * answers 422 when that version has errors, 409 when the flow has no published version to run.
   */
  async enqueue(flowId: string, trigger: TriggerKind, options: EnqueueOptions = {}): Promise<string> {
    const wanted = options.version ?? 'latest';
    let version: number | undefined;
    if (wanted === 'published') {
      const summary = await this.o.flows.get(flowId);
      if (summary.publishedVersion === null)
        throw new ConflictError('not_published', `flow ${flowId} has no published version; publish one first`);
      version = summary.publishedVersion;
    } else if (typeof wanted === 'number') version = wanted;
    const flow = await this.o.flows.get(flowId, version);
    if (flow.archivedAt !== null)
      throw new ConflictError('archived', `flow "${flow.name}" is archived; restore it before running it`);
    const errors = flow.problems.filter((p) => p.severity === 'error');
    if (errors.length) {
      const first = errors[0];
      const message = `the flow has ${errors.length} problem(s) to fix before it can run: ${first?.message}`;
      throw new InvalidFlowError(message, { path: first?.path, problems: flow.problems });
    }
    const runId = await this.o.runs.create({
      flowId,
      flowVersionId: Number(flow.versionId),
      flowName: flow.name,
      trigger,
      ...(options.inputs ? { inputs: options.inputs } : {}),
      ...(options.scheduledFor !== undefined ? { scheduledFor: options.scheduledFor } : {}),
    });
    if (options.trace) this.o.tracing?.adopt(runId, options.trace);
    this.events.emit('event', { type: 'status', runId, status: 'queued', counts: emptyRunCounts() });
    this.o.wake?.notifyQueued();
    queueMicrotask(() => void this.pump());
    return runId;
  }

  /**
   * Starts a test run of a document at once, in this process (the draft lives only in this request):
   * its sources read their first `limit` records, or emit their pinned data; writes are not sent
   * unless asked. Stored as a run with trigger `test` and no flow version; what each node received,
   * emitted and failed is kept in memory for `testDataOf`. Answers 422 when the document has errors.
   */
  async test(request: TestRequest): Promise<string> {
    const checked = checkFlowForRun(request.document);
    const errors = checked.problems.filter((p) => p.severity === 'error');
    if (!checked.flow || errors.length) {
      const first = errors[0];
      const message = `the flow has ${errors.length} problem(s) to fix before it can be tested: ${first?.message}`;
      throw new InvalidFlowError(message, { path: first?.path, problems: checked.problems });
    }
    const flow = checked.flow;
    const { flowId } = request;
    // no flow version: a process that finds this run abandoned cannot run it, and stores it failed
    const runId = await this.o.runs.create({ flowId, flowVersionId: null, flowName: flow.name, trigger: 'test' });
    const epoch = await this.o.leases.claim(runId, ['queued']);
    if (epoch !== null) this.o.store.fence(runId, epoch);
    await this.preload(flow);
    const log = this.runLog(runId, flowId);
    log.info({ limit: request.limit, sendWrites: request.sendWrites }, 'starting a test run');
    // a test compares with the flow's current hashes and stages nothing (the engine sees to that)
    const changes = flowId ? this.changesFor(runId, flowId) : undefined;
    const tracing = this.o.tracing;
    tracing?.runStarted(runId, { flowId, flowName: flow.name, nodeTypes: nodeTypes(flow), resumed: false, test: true });
    const observed = this.o.observer?.observeRun({ runId, flowId, trigger: 'test', flow });
    const handle = startRun({
      runId,
      ...(changes ? { changes } : {}),
      flow,
      clock: this.o.clock,
      runtime: this.o.runtime,
      store: this.storeFor(runId),
      connectors: this.o.connectors,
      breakers: this.breakers,
      onEvent: (event: RunEvent) => {
        if (this.lost.has(runId)) return;
        logEvent(log, event);
        tracing?.event(event);
        this.events.emit('event', event);
        observed?.event(event);
      },
      test: {
        limit: request.limit,
        sendWrites: request.sendWrites,
        ...(flow.pinned ? { pinned: flow.pinned } : {}),
        ...(request.until ? { until: request.until } : {}),
      },
    });
    this.active.set(runId, handle);
    this.tests.add(runId);
    handle.done
      .then(
        (result) => {
          tracing?.runEnded(runId, runEnd(result));
          this.testData.set(runId, result.test ?? {});
          log.info({ status: result.status, counts: result.counts }, `the test run ended ${result.status}`);
          observed?.end(result);
          this.finish(runId, result);
        },
        (err: unknown) => {
          tracing?.runEnded(runId, { status: 'failed', error: 'the test run could not be stored' });
          log.error({ err }, 'the test run could not be stored');
          observed?.end({ status: 'failed' });
          this.finish(runId);
        },
      )
      .finally(() => {
        this.tests.delete(runId);
        queueMicrotask(() => void this.pump());
      });
    return runId;
  }

  /** What each node of a test run received, emitted and failed; waits up to `waitMs` for it to finish. */
  async testDataOf(runId: string, waitMs = 0) {
    const run = await this.o.runs.get(runId);
    if (run.trigger !== 'test') throw new NotFoundError(`run ${runId} is not a test run`, 'not_a_test');
    if (!isFinalRunStatus(run.status) && waitMs > 0 && this.active.has(runId)) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        this.wait(runId),
        new Promise((resolve) => {
          timer = setTimeout(resolve, waitMs);
        }),
      ]);
      clearTimeout(timer);
    }
    const current = await this.o.runs.get(runId);
    const nodes = this.testData.get(runId);
    if (isFinalRunStatus(current.status) && !nodes && !this.active.has(runId))
      throw new NotFoundError(`the data of test run ${runId} is no longer kept; test again`, 'test_data_gone');
    return {
      runId,
      status: current.status,
      error: current.error,
      nodes: nodes ?? {},
      nodeCounts: current.nodeCounts,
    };
  }

  /** Cancels every unfinished run of a flow but those named (a schedule's cancel-previous policy); returns their ids. */
  async cancelFlowRuns(flowId: string, except: readonly string[] = []): Promise<string[]> {
    const ids: string[] = [];
    for (const run of await this.o.runs.activeOf(flowId)) {
      if (except.includes(run.id)) continue;
      try {
        await this.cancel(run.id);
        ids.push(run.id);
      } catch (err) {
        if (!(err instanceof DomainError)) throw err;
      }
    }
    return ids;
  }

  /** Queues a run that feeds the failed records of a finished run into the nodes where they failed. */
  async retryFailed(
    runId: string,
    version: 'original' | 'current',
    selection?: readonly RetrySelection[],
  ): Promise<string> {
    const run = await this.o.runs.get(runId);
    if (!isFinalRunStatus(run.status))
      throw new ConflictError(
        'run_not_finished',
        `run ${runId} is ${run.status}; retry its failed records once it has finished`,
      );
    if (run.counts.failed === 0) throw new ConflictError('nothing_to_retry', `run ${runId} has no failed records`);
    if (run.prunedAt !== null)
      throw new ConflictError('nothing_to_retry', `run ${runId}'s record outcomes were removed by retention`);
    if (!run.flowId) throw new ConflictError('no_flow', `run ${runId} belongs to no stored flow`);
    if (selection?.length) {
      const seqs = selection.map((r) => r.seq);
      const twice = seqs.findIndex((seq, i) => seqs.indexOf(seq) !== i);
      if (twice >= 0)
        throw new InvalidError('duplicate_record', `records[${twice}].seq: record ${seqs[twice]} is named twice`, {
          path: `records[${twice}].seq`,
        });
      const missing = await this.o.runs.notFailed(runId, seqs);
      if (missing.length) {
        const at = seqs.indexOf(missing[0] as number);
        throw new InvalidError(
          'not_failed',
          `records[${at}].seq: record ${missing[0]} is not a failed record of run ${runId}`,
          { path: `records[${at}].seq` },
        );
      }
    }
    const target =
      version === 'original'
        ? await this.o.flows.get(run.flowId, run.flowVersion ?? undefined)
        : await this.o.flows.get(run.flowId);
    const errors = target.problems.filter((p) => p.severity === 'error');
    if (errors.length)
      throw new InvalidFlowError(`that flow version cannot run: ${errors[0]?.message}`, {
        path: errors[0]?.path,
        problems: target.problems,
      });
    const id = await this.o.runs.create({
      flowId: run.flowId,
      flowVersionId: Number(target.versionId),
      flowName: target.name,
      trigger: 'retry',
      retryOf: runId,
      ...(selection?.length ? { selection } : {}),
    });
    queueMicrotask(() => void this.pump());
    return id;
  }

  /** Pauses a running run at its next batch boundary, wherever it executes. */
  async pause(runId: string): Promise<void> {
    await this.control(runId, 'pause', ['running']);
  }

  /** Resumes a paused run, wherever it is held. */
  async resume(runId: string): Promise<void> {
    await this.control(runId, 'resume', ['paused']);
  }

  /** Cancels a queued, running or paused run, wherever it executes. */
  async cancel(runId: string): Promise<void> {
    if (this.here(runId, 'cancel')) return;
    if (await this.o.runs.cancelQueued(runId)) return this.settle(runId);
    await this.control(runId, 'cancel', ['queued', 'running', 'paused']);
  }

  /**
   * Applies a control to a run this process executes, or is starting; false when it is neither.
   * A run lost here is another's: asked through the database like any run held elsewhere.
   */
  private here(runId: string, verb: ControlVerb): boolean {
    const handle = this.active.get(runId);
    if (handle && !this.lost.has(runId)) applyControl(handle, verb);
    else if (this.starting.has(runId)) this.wanted.set(runId, verb);
    else return false;
    return true;
  }

  /**
   * Pauses, resumes or cancels a run in one of `statuses`. Executed here: at once. Held by another
   * process: asked through the database (and its news), for the holder to take up within a moment
   * (at its next lease renewal, should the news be lost). Held by nobody (its executor died, no
   * worker took it up yet): a cancel is stored here at once, so a run can be cancelled while no
   * worker runs; a pause or resume waits on the run for the process that takes it up next.
   */
  private async control(runId: string, verb: ControlVerb, statuses: readonly RunStatus[]): Promise<void> {
    const refuse = (status: RunStatus) =>
      verb === 'cancel' && isFinalRunStatus(status)
        ? new ConflictError('run_finished', `run ${runId} has already finished (${status})`)
        : new ConflictError('bad_state', `cannot ${verb} run ${runId}: it is ${status}`);
    const run = await this.o.runs.get(runId);
    if (!statuses.includes(run.status)) throw refuse(run.status);
    if (this.here(runId, verb)) return;
    if (verb === 'cancel' && run.status !== 'queued' && (await this.cancelUnheld(run))) return;
    // false: its status changed meanwhile (it finished, or another control got there first)
    if (!(await this.o.leases.requestControl(runId, verb, statuses)))
      throw refuse((await this.o.runs.get(runId)).status);
    this.runLog(runId, run.flowId).info({ verb }, `${verb} asked of the process executing the run`);
    this.o.wake?.notifyControl(runId);
    // claimed here meanwhile: taken up now rather than at the next renewal
    if (this.active.has(runId) || this.starting.has(runId)) await this.takeControls([runId]);
  }

  /**
   * Cancels a running or paused run nobody live holds, by taking its lease and storing it cancelled
   * (its records not stored as settled are counted cancelled). False when a live process holds it.
   */
  private async cancelUnheld(run: RunDetail): Promise<boolean> {
    const epoch = await this.o.leases.claim(run.id, ['running', 'paused']);
    if (epoch === null) return false;
    this.o.store.fence(run.id, epoch);
    const log = this.runLog(run.id, run.flowId);
    try {
      const current = await this.o.runs.get(run.id);
      const { read, succeeded, filtered, failed } = current.counts;
      await this.o.store.setStatus(run.id, {
        status: 'cancelled',
        at: this.o.clock.now(),
        counts: { read, succeeded, filtered, failed, cancelled: Math.max(0, read - succeeded - filtered - failed) },
        nodeCounts: current.nodeCounts,
      });
      log.info('cancelled while no process held it');
    } finally {
      await this.o.leases.release(run.id).catch(() => {});
    }
    await this.settle(run.id);
    return true;
  }

  /** Resolves when the run reaches a final status. */
  async wait(runId: string): Promise<RunResult> {
    // the waiter is registered before the stored status is read: a run finishing meanwhile still settles it
    let waiter: (r: RunResult) => void = () => {};
    const settled = new Promise<RunResult>((resolve) => {
      waiter = resolve;
      this.waiters.set(runId, [...(this.waiters.get(runId) ?? []), resolve]);
    });
    const current = await this.o.runs.get(runId).catch((err: unknown) => {
      this.unwait(runId, waiter);
      throw err;
    });
    if (isFinalRunStatus(current.status) && !this.active.has(runId)) {
      this.unwait(runId, waiter);
      return { runId, status: current.status, counts: current.counts, nodeCounts: current.nodeCounts };
    }
    return settled;
  }

  private unwait(runId: string, waiter: (r: RunResult) => void): void {
    const rest = (this.waiters.get(runId) ?? []).filter((w) => w !== waiter);
    if (rest.length) this.waiters.set(runId, rest);
    else this.waiters.delete(runId);
  }

  /** Stops picking up runs. With `cancel`, cancels this process's runs; otherwise leaves them to be resumed. */
  async stop({ cancel = true } = {}): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    for (const off of this.unwake.splice(0)) off();
    const handles = [...this.active.values()];
    if (!cancel) {
      const tests = handles.filter((h) => this.tests.has(h.runId));
      for (const h of tests) h.cancel(); // nothing to resume them from
      const releases = [...this.active.keys()]
        .filter((id) => !this.tests.has(id))
        .map((id) => this.o.leases.release(id));
      await Promise.allSettled([...releases, ...tests.map((h) => h.done)]);
      return;
    }
    for (const h of handles) h.cancel();
    await Promise.allSettled(handles.map((h) => h.done));
  }

  get activeCount(): number {
    return this.active.size;
  }

  /**
   * Claims and launches runs while there is room. One pump at a time: one asked for while another
   * goes on runs once it ends (so two never claim past the concurrency limit between them).
   */
  async pump(): Promise<void> {
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.again = false;
        await this.pumpOnce();
      } while (this.again && !this.stopped);
    } catch (err) {
      this.o.logger.error({ err }, 'looking for runs to execute failed; the next scan tries again');
    } finally {
      this.pumping = false;
    }
  }

  private async pumpOnce(): Promise<void> {
    if (this.stopped || this.o.claims === false) return;
    const room = this.concurrency - this.active.size;
    if (room <= 0) return;
    // runs of one flow already executing (here or elsewhere) held back: counted by the claim itself
    const fullFlows = new Set<string>();
    for (const candidate of await this.o.leases.candidates(room * 4)) {
      if (this.stopped || this.active.size >= this.concurrency) break;
      if (this.active.has(candidate.id)) continue;
      const queued = candidate.status === 'queued';
      if (queued && candidate.flowId && fullFlows.has(candidate.flowId)) continue;
      const epoch = await this.o.leases.claim(candidate.id, ['queued', 'running', 'paused'], this.o.perFlow);
      if (epoch === null && queued && candidate.flowId) fullFlows.add(candidate.flowId);
      if (epoch === null) continue;
      // from here on, what this process writes for the run carries this epoch
      this.o.store.fence(candidate.id, epoch);
      this.starting.add(candidate.id);
      try {
        await this.launch(candidate.id, candidate.status as RunStatus, candidate.flowId);
        if (this.active.has(candidate.id)) this.activeFlows.set(candidate.id, candidate.flowId);
        // what was asked of the run before this process took it (its last holder died) or while it started
        await this.takeControls([candidate.id]);
        const verb = this.wanted.get(candidate.id);
        const handle = this.active.get(candidate.id);
        if (verb && handle) applyControl(handle, verb);
      } catch (err) {
        this.o.tracing?.runEnded(candidate.id, { status: 'failed', error: 'the run could not start' });
        this.runLog(candidate.id, candidate.flowId).error(
          { err },
          'the run could not start; the next scan tries again',
        );
        await this.o.leases.release(candidate.id).catch(() => {});
      } finally {
        this.starting.delete(candidate.id);
        this.wanted.delete(candidate.id);
      }
    }
  }

  private async launch(runId: string, status: RunStatus, flowId: string | null): Promise<void> {
    const { document, retryOf, trigger, startedAt } = await this.o.runs.versionOf(runId);
    const checked = checkFlowForRun(document ? JSON.parse(document) : null);
    if (!checked.ok || !checked.flow) {
      const error = `the flow version cannot run: ${checked.problems[0]?.message ?? 'missing document'}`;
      void this.failUnrunnable(runId, error, this.runLog(runId, flowId));
      return;
    }
    const log = this.runLog(runId, flowId);
    const resume = status === 'queued' ? undefined : await this.o.store.loadResume(runId);
    if (status !== 'queued') {
      const from = resume
        ? `record ${resume.checkpoint.lowWater} (its last checkpoint)`
        : 'the start (no checkpoint yet)';
      log.info({ interrupted: status, lowWater: resume?.checkpoint.lowWater ?? 0 }, `resuming the run from ${from}`);
    } else log.info('starting the run');
    // incremental sources read after the watermarks of the flow's last successful runs
    const watermarks = flowId && !retryOf ? await this.o.runs.watermarksOf(flowId) : {};
    await this.preload(checked.flow);
    if (this.stopped) {
      await this.o.leases.release(runId);
      return;
    }
    const changes = flowId ? this.changesFor(runId, flowId) : undefined;
    const tracing = this.o.tracing;
    tracing?.runStarted(runId, {
      flowId,
      flowName: checked.flow.name,
      nodeTypes: nodeTypes(checked.flow),
      resumed: status !== 'queued',
    });
    const observed = this.o.observer?.observeRun({
      runId,
      flowId,
      trigger,
      flow: checked.flow,
      startedAt,
      ...(resume ? { resumedNodeCounts: resume.nodeCounts } : {}),
    });
    const handle = startRun({
      runId,
      ...(Object.keys(watermarks).length ? { watermarks } : {}),
      ...(changes ? { changes } : {}),
      flow: checked.flow,
      clock: this.o.clock,
      runtime: this.o.runtime,
      store: this.storeFor(runId),
      connectors: this.o.connectors,
      breakers: this.breakers,
      paused: status === 'paused',
      onEvent: (event: RunEvent) => {
        if (this.lost.has(runId)) return;
        logEvent(log, event);
        tracing?.event(event);
        this.events.emit('event', event);
        observed?.event(event);
      },
      ...(resume ? { resume } : {}),
      inputs: { read: (from, limit) => this.o.runs.inputs(runId, from, limit) },
      ...(retryOf
        ? { replay: { read: (after, limit) => this.o.runs.failedForReplay(retryOf, after, limit, runId) } }
        : {}),
    });
    this.active.set(runId, handle);
    handle.done
      .then(
        async (result) => {
          tracing?.runEnded(runId, this.lost.has(runId) ? { status: 'lost' } : runEnd(result));
          if (this.lost.has(runId)) {
            observed?.end(undefined);
            return this.finishLost(runId);
          }
          observed?.end(result);
          const ended = {
            status: result.status,
            counts: result.counts,
            ...(result.error ? { error: result.error } : {}),
          };
          if (result.status === 'failed') log.warn(ended, 'the run ended failed');
          else log.info(ended, `the run ended ${result.status}`);
          if (flowId) await this.storeWatermarks(flowId, result, log);
          if (flowId && changes) await this.settleHashes(flowId, result, log);
          this.finish(runId, result);
        },
        (err: unknown) => {
          tracing?.runEnded(runId, { status: 'failed', error: 'the run could not be stored' });
          if (this.lost.has(runId)) {
            observed?.end(undefined);
            return this.finishLost(runId);
          }
          log.error({ err }, 'the run could not be stored');
          observed?.end({ status: 'failed' });
          this.finish(runId);
        },
      )
      .finally(() => queueMicrotask(() => void this.pump()));
  }

  /** Forgets a run stopped here for a lost lease: no release (the lease is another's), no waiter told. */
  private finishLost(runId: string): void {
    this.active.delete(runId);
    this.activeFlows.delete(runId);
    this.lost.delete(runId);
  }

  /**
   * Stores a run whose flow version cannot run as `failed`. Should the store refuse (the database
   * busy or full), the run stays stored as it was and its lease is released, so the next scan tries
   * again; waiters are told only once a final status is stored, never a guess.
   */
  private async failUnrunnable(runId: string, error: string, log: Logger): Promise<void> {
    try {
      await this.o.store.setStatus(runId, {
        status: 'failed',
        at: this.o.clock.now(),
        error,
        counts: emptyRunCounts(),
        nodeCounts: {},
      });
    } catch (err) {
      log.error({ err }, 'the status of a run that cannot start could not be stored; the next scan tries again');
      await this.o.leases.release(runId).catch(() => {});
      return;
    }
    log.warn({ error }, 'the run cannot start: stored failed');
    this.events.emit('finished', { runId, status: 'failed', error, counts: emptyRunCounts(), nodeCounts: {} });
    await this.o.leases.release(runId).catch(() => {});
    await this.settle(runId).catch((err: unknown) => {
      log.error({ err }, "the run's waiters could not be told how it ended");
    });
  }

  /**
   * Advances the flow's watermarks to what the run read, only when it succeeded: a failed or
   * cancelled run leaves them, so the next run reads its changes again.
   */
  private async storeWatermarks(flowId: string, result: RunResult, log: Logger): Promise<void> {
    if (result.status !== 'succeeded' || !result.watermarks || !Object.keys(result.watermarks).length) return;
    try {
      await this.o.runs.advanceWatermarks(flowId, result.runId, result.watermarks);
    } catch (err) {
      log.error({ err }, 'the run’s watermarks could not be stored; the next run reads those changes again');
    }
  }

  /** A run's view of the changed-only hashes of its flow. */
  private changesFor(runId: string, flowId: string): ChangeHashes | undefined {
    const rows = this.o.changes;
    if (!rows) return undefined;
    return {
      current: (nodeId, keys) => rows.currentHashes({ flowId, nodeId, keys }),
      stage: (nodeId, entries) => rows.stageHashes({ runId, nodeId, entries }),
    };
  }

  /**
   * Makes the changed-only hashes a run staged current once it has succeeded; drops them when it
   * failed or was cancelled. Should that fail, the next run lets those records through again.
   */
  private async settleHashes(flowId: string, result: RunResult, log: Logger): Promise<void> {
    const rows = this.o.changes;
    if (!rows) return;
    try {
      if (result.status === 'succeeded') await rows.promoteHashes({ runId: result.runId, flowId });
      else await rows.discardHashes(result.runId);
    } catch (err) {
      log.error(
        { err },
        'the run’s changed-only hashes could not be settled; the next run lets those records through again',
      );
    }
  }

  /** The logger of lines about one run: every line carries its run and flow ids. */
  private runLog(runId: string, flowId: string | null): Logger {
    return this.o.logger.child({ runId, flowId });
  }

  private finish(runId: string, result?: RunResult): void {
    if (this.stopped && !result) return;
    const flowId = this.activeFlows.get(runId);
    this.active.delete(runId);
    this.activeFlows.delete(runId);
    // its final status is stored: alerts look at it (only the process that executed it says so)
    if (result) this.events.emit('finished', result, flowId);
    this.o.leases.release(runId).catch((err: unknown) => {
      this.runLog(runId, null).warn({ err }, "the run's lease could not be released; it expires on its own");
    });
    this.settle(runId, result).catch((err: unknown) => {
      this.runLog(runId, null).error({ err }, "the run's waiters could not be told how it ended");
    });
  }

  private async settle(runId: string, result?: RunResult): Promise<void> {
    if (!this.waiters.get(runId)?.length) return;
    let final = result;
    if (!final) {
      const r = await this.o.runs.get(runId);
      final = { runId, status: r.status, counts: r.counts, nodeCounts: r.nodeCounts };
    }
    const waiters = this.waiters.get(runId) ?? [];
    this.waiters.delete(runId);
    for (const w of waiters) w(final);
  }
}

/** The node types of a flow by node id, for the spans of its nodes. */
function nodeTypes(flow: Flow): Map<string, string> {
  return new Map(flow.nodes.map((n) => [n.id, n.type]));
}

/** How a run ended, as its span says it. */
function runEnd(result: RunResult): RunSpanEnd {
  return {
    status: result.status,
    counts: result.counts,
    nodeCounts: result.nodeCounts,
    ...(result.error ? { error: result.error } : {}),
  };
}

function applyControl(handle: RunHandle, verb: ControlVerb): void {
  if (verb === 'pause') handle.pause();
  else if (verb === 'resume') handle.resume();
  else handle.cancel();
}

/** The engine's events about a run, at debug level (a line per batch and per wait, with the node waiting). */
function logEvent(log: Logger, event: RunEvent): void {
  // a connection's learnt pace changing is worth an operator's eye (a system slowing down)
  if (event.type === 'pace') {
    const { connection, nodeId, pace } = event;
    log.info(
      { connection, nodeId, ...pace },
      `pace of ${connection}: ${pace.perSecond ?? 'not held back'}/s (${pace.reason})`,
    );
    return;
  }
  if (!log.isLevelEnabled('debug')) return;
  switch (event.type) {
    case 'status':
      log.debug({ status: event.status, counts: event.counts }, `status ${event.status}`);
      return;
    case 'batch-started':
      log.debug({ batchNo: event.batchNo, size: event.size }, 'batch started');
      return;
    case 'batch':
      log.debug({ batchNo: event.batch.batchNo, counts: event.counts, nodeCounts: event.nodeCounts }, 'batch finished');
      return;
    case 'waiting':
      if (event.waiting) {
        const { nodeId, kind, connection, until } = event.waiting;
        log.debug({ nodeId, kind, connection, until: new Date(until).toISOString() }, `waiting (${kind})`);
      } else log.debug('no longer waiting');
      return;
  }
}
