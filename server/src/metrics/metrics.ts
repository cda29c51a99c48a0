import { type BreakerRegistry, type HttpClient, HttpFailure, type RunEvent } from '@sluice/engine';
import { type Flow, isFinalRunStatus, type NodeCounts, type RunStatus, type TriggerKind } from '@sluice/shared';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The Prometheus metrics of one Sluice process (prom-client), served at `/metrics` (a worker: on its
 * health port). Everything is counted from what the process already sees: the engine's run events
 * (a batch's node counts, waits, statuses), the requests of its HTTP client, its breakers' changes,
 * the scheduler's firings; the run queue and the writer's lag are read when scraped. Updates are per
 * batch, per request or per wait, never per record, and no label holds a run id or a record key:
 * `flow` is a flow id, `node` a node id of its document.
 */

/** Why /metrics refused a request without a valid token. */
export const METRICS_TOKEN_MESSAGE =
  'Authorization: /metrics needs "Authorization: Bearer <token>" (an API token), unless SLUICE_METRICS_PUBLIC=1';

/** Every metric Sluice itself defines (beside prom-client's process defaults), with its labels. */
export const SLUICE_METRICS = {
  sluice_runs_started_total: ['flow', 'trigger'],
  sluice_runs_finished_total: ['flow', 'status'],
  sluice_run_duration_seconds: ['flow', 'status'],
  sluice_records_total: ['flow', 'node', 'outcome'],
  sluice_batch_duration_seconds: ['flow', 'node'],
  sluice_queue_runs: ['state'],
  sluice_http_requests_total: ['connection', 'code'],
  sluice_http_request_duration_seconds: ['connection'],
  sluice_breaker_open: ['connection'],
  sluice_wait_seconds_total: ['flow', 'node', 'kind'],
  sluice_writer_lag_rows: [],
  sluice_schedule_last_fire_timestamp_seconds: ['flow'],
} as const;

/** What a run's metrics need to know of it when it starts (or is taken up again) in this process. */
export interface ObservedRun {
  runId: string;
  /** Its flow; null for a test run of an unsaved draft (labelled `flow=""`). */
  flowId: string | null;
  trigger: TriggerKind;
  /** The document it runs (its batch node names the batch durations). */
  flow: Pick<Flow, 'nodes'>;
  /** A run taken up again after a process stopped: when it first ran (ms since the epoch). */
  startedAt?: number | null;
  /** A run taken up again: the node counts stored before, so that only what this process settles is counted. */
  resumedNodeCounts?: Record<string, NodeCounts>;
}

/** How a run ended, as the runner learns it; undefined: it stopped here without ending (left to another process). */
export type ObservedEnd = { status: RunStatus; nodeCounts?: Record<string, NodeCounts> } | undefined;

/** The metrics of one run: its events as they come, and its end. */
export interface RunObservation {
  event(event: RunEvent): void;
  end(result: ObservedEnd): void;
}

/** What the metrics read when scraped: the run queue (the database's) and the writer's lag. */
export interface MetricsSources {
  queue?: () => Promise<Record<'queued' | 'running' | 'paused', number>>;
  writerLagRows?: () => number;
}

/** Run durations: from a second to a day. */
const RUN_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400];
/** Batch durations: from 10 ms to 10 minutes. */
const BATCH_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 600];
/** Request durations: from 5 ms to a minute. */
const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

const OUTCOMES = [
  ['succeeded', 'out'],
  ['failed', 'error'],
  ['filtered', 'filtered'],
] as const;

export class Metrics {
  readonly registry = new Registry();
  private readonly runsStarted: Counter<'flow' | 'trigger'>;
  private readonly runsFinished: Counter<'flow' | 'status'>;
  private readonly runDuration: Histogram<'flow' | 'status'>;
  /** Records counted since the last scrape, by series (flow, node, outcome). */
  private readonly tallies = new Map<string, { labels: Record<'flow' | 'node' | 'outcome', string>; value: number }>();
  private readonly batchDuration: Histogram<'flow' | 'node'>;
  private readonly waitSeconds: Counter<'flow' | 'node' | 'kind'>;
  private readonly httpRequests: Counter<'connection' | 'code'>;
  private readonly httpDuration: Histogram<'connection'>;
  private readonly breakerOpen: Gauge<'connection'>;
  /** The breaker registries followed, with the connections whose breakers have changed state. */
  private readonly breakers: { registry: BreakerRegistry; names: Set<string> }[] = [];
  private readonly lastFire: Gauge<'flow'>;
  private readonly now: () => number;

  constructor(
    sources: MetricsSources = {},
    options: {
      /** prom-client's process metrics (CPU, memory, event loop lag, handles, GC); default true. */
      processDefaults?: boolean;
      /** The clock of durations that no event carries (ms); performance.now by default. */
      now?: () => number;
    } = {},
  ) {
    const registers = [this.registry];
    this.now = options.now ?? (() => performance.now());
    this.runsStarted = new Counter({
      name: 'sluice_runs_started_total',
      help: 'Runs that started executing in this process (not counting runs taken up again after a stop), by flow and trigger.',
      labelNames: SLUICE_METRICS.sluice_runs_started_total,
      registers,
    });
    this.runsFinished = new Counter({
      name: 'sluice_runs_finished_total',
      help: 'Runs that ended in this process, by flow and final status (succeeded, failed, cancelled).',
      labelNames: SLUICE_METRICS.sluice_runs_finished_total,
      registers,
    });
    this.runDuration = new Histogram({
      name: 'sluice_run_duration_seconds',
      help: 'Seconds from a run’s first start to its end (a run taken up again counts from its first start), by flow and final status.',
      labelNames: SLUICE_METRICS.sluice_run_duration_seconds,
      buckets: RUN_BUCKETS,
      registers,
    });
    const tallies = this.tallies;
    new Counter({
      name: 'sluice_records_total',
      help: 'Records a node passed on (succeeded), sent out of its error port (failed) or dropped (filtered), by flow, node and outcome; counted as they settle.',
      labelNames: SLUICE_METRICS.sluice_records_total,
      registers,
      // added up as plain numbers per batch, handed over when scraped (an increment by labels costs
      // a lookup of the series each time)
      collect() {
        for (const tally of tallies.values()) {
          if (tally.value === 0) continue;
          this.inc(tally.labels, tally.value);
          tally.value = 0;
        }
      },
    });
    this.batchDuration = new Histogram({
      name: 'sluice_batch_duration_seconds',
      help: 'Seconds from a batch’s release by its batch node to its end downstream, by flow and batch node.',
      labelNames: SLUICE_METRICS.sluice_batch_duration_seconds,
      buckets: BATCH_BUCKETS,
      registers,
    });
    this.waitSeconds = new Counter({
      name: 'sluice_wait_seconds_total',
      help: 'Seconds runs spent waiting, by flow, the node shown waiting and the kind of wait (delay, rate, breaker, retry, limit).',
      labelNames: SLUICE_METRICS.sluice_wait_seconds_total,
      registers,
    });
    this.httpRequests = new Counter({
      name: 'sluice_http_requests_total',
      help: 'HTTP requests sent, by connection and answer: the status code, or network, timeout or aborted.',
      labelNames: SLUICE_METRICS.sluice_http_requests_total,
      registers,
    });
    this.httpDuration = new Histogram({
      name: 'sluice_http_request_duration_seconds',
      help: 'Seconds from sending an HTTP request to its whole answer (or its failure), by connection.',
      labelNames: SLUICE_METRICS.sluice_http_request_duration_seconds,
      buckets: HTTP_BUCKETS,
      registers,
    });
    const breakers = this.breakers;
    this.breakerOpen = new Gauge({
      name: 'sluice_breaker_open',
      help: 'Whether a connection’s circuit breaker is open in this process (1) or not (0: closed or half-open).',
      labelNames: SLUICE_METRICS.sluice_breaker_open,
      registers,
      // read again when scraped: a state learnt from another process is not told as a change
      collect() {
        for (const { registry, names } of breakers) {
          for (const [connection, b] of Object.entries(registry.snapshot(names))) {
            this.set({ connection }, b.state === 'open' ? 1 : 0);
          }
        }
      },
    });
    const { queue, writerLagRows } = sources;
    new Gauge({
      name: 'sluice_queue_runs',
      help: 'Runs of every process queued, running and paused now, by state (read from the database when scraped).',
      labelNames: SLUICE_METRICS.sluice_queue_runs,
      registers,
      async collect() {
        if (!queue) return;
        try {
          const counts = await queue();
          for (const state of ['queued', 'running', 'paused'] as const) this.set({ state }, counts[state]);
        } catch {
          // the database does not answer: the scrape goes on without it (/api/ready says why)
        }
      },
    });
    new Gauge({
      name: 'sluice_writer_lag_rows',
      help: 'Rows of record outcomes handed to the run store and not yet written.',
      registers,
      collect() {
        if (writerLagRows) this.set(writerLagRows());
      },
    });
    this.lastFire = new Gauge({
      name: 'sluice_schedule_last_fire_timestamp_seconds',
      help: 'When a schedule of the flow last fired a run in this process (seconds since the epoch).',
      labelNames: SLUICE_METRICS.sluice_schedule_last_fire_timestamp_seconds,
      registers,
    });
    if (options.processDefaults !== false) collectDefaultMetrics({ register: this.registry });
  }

  /** The exposition text, and its content type. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  /** Starts following a run executing here: what its events and its end count. */
  observeRun(run: ObservedRun): RunObservation {
    const flow = run.flowId ?? '';
    const batchNode = run.flow.nodes.find((n) => n.type === 'batch')?.id ?? '';
    const startedAt = run.startedAt ?? Date.now();
    if (!run.startedAt) this.runsStarted.inc({ flow, trigger: run.trigger });
    /** The node counts counted so far (a resumed run's stored ones to begin with). */
    let counted: Record<string, NodeCounts> = run.resumedNodeCounts ?? {};
    let waiting: { node: string; kind: string; since: number } | undefined;
    let ended = false;
    // each node's tallies, looked up once per run
    const series = new Map<string, { value: number }[]>();
    const seriesOf = (node: string) => {
      let found = series.get(node);
      if (!found) {
        found = OUTCOMES.map(([outcome]) => {
          const key = `${flow}\u0000${node}\u0000${outcome}`;
          let tally = this.tallies.get(key);
          if (!tally) {
            tally = { labels: { flow, node, outcome }, value: 0 };
            this.tallies.set(key, tally);
          }
          return tally;
        });
        series.set(node, found);
      }
      return found;
    };
    const batches = this.batchDuration.labels({ flow, node: batchNode });
    const count = (nodeCounts: Record<string, NodeCounts>) => {
      for (const node in nodeCounts) {
        const now = nodeCounts[node] as NodeCounts;
        const before = counted[node];
        const out = now.out - (before?.out ?? 0);
        const error = now.error - (before?.error ?? 0);
        const filtered = now.filtered - (before?.filtered ?? 0);
        if (out <= 0 && error <= 0 && filtered <= 0) continue;
        const [succeededTally, failedTally, filteredTally] = seriesOf(node) as [
          { value: number },
          { value: number },
          { value: number },
        ];
        if (out > 0) succeededTally.value += out;
        if (error > 0) failedTally.value += error;
        if (filtered > 0) filteredTally.value += filtered;
      }
      counted = nodeCounts;
    };
    const stopWaiting = () => {
      if (!waiting) return;
      const seconds = (this.now() - waiting.since) / 1000;
      if (seconds > 0) this.waitSeconds.inc({ flow, node: waiting.node, kind: waiting.kind }, seconds);
      waiting = undefined;
    };
    return {
      event: (event) => {
        if (ended) return;
        if (event.type === 'batch') {
          const { startedAt: from, finishedAt: to } = event.batch;
          batches.observe(Math.max(0, to - from) / 1000);
          count(event.nodeCounts);
        } else if (event.type === 'waiting') {
          const w = event.waiting;
          if (w && waiting && w.nodeId === waiting.node && w.kind === waiting.kind) return;
          stopWaiting();
          if (w) waiting = { node: w.nodeId, kind: w.kind, since: this.now() };
        } else if (event.type === 'status' && isFinalRunStatus(event.status)) stopWaiting();
      },
      end: (result) => {
        if (ended) return;
        ended = true;
        stopWaiting();
        if (!result) return;
        if (result.nodeCounts) count(result.nodeCounts);
        this.runsFinished.inc({ flow, status: result.status });
        this.runDuration.observe({ flow, status: result.status }, Math.max(0, Date.now() - startedAt) / 1000);
      },
    };
  }

  /** The HTTP client with each request counted and timed by connection. */
  instrumentHttp(http: HttpClient): HttpClient {
    return async (request) => {
      const connection = request.connection ?? originOf(request.url);
      const started = this.now();
      let code = 'error';
      try {
        const response = await http(request);
        code = String(response.status);
        return response;
      } catch (err) {
        if (err instanceof HttpFailure) code = err.code;
        throw err;
      } finally {
        this.httpRequests.inc({ connection, code });
        this.httpDuration.observe({ connection }, (this.now() - started) / 1000);
      }
    };
  }

  /** Follows the breakers of this process's connections. Returns the way to stop. */
  watchBreakers(registry: BreakerRegistry): () => void {
    const followed = { registry, names: new Set<string>() };
    this.breakers.push(followed);
    const stop = registry.onChange((change) => {
      followed.names.add(change.connection);
      this.breakerOpen.set({ connection: change.connection }, change.state === 'open' ? 1 : 0);
    });
    return () => {
      stop();
      this.breakers.splice(this.breakers.indexOf(followed), 1);
    };
  }

  /** A schedule of the flow fired a run here, now. */
  scheduleFired(flowId: string): void {
    this.lastFire.set({ flow: flowId }, Date.now() / 1000);
  }
}

/** A request's origin, its pool's name when it names no connection (a URL that does not parse: "none"). */
function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return 'none';
  }
}
