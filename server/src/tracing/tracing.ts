import type { HttpClient, RequestOrigin, RunEvent, SqlPort } from '@sluice/engine';
import type { NodeCounts } from '@sluice/shared';
import { batchOptions, SpanBatcher, ThreadExporter } from './exporter.js';
import { tracedHttpClient } from './http.js';
import {
  type Attributes,
  contextOf,
  injectContext,
  nowMs,
  parseTraceparent,
  type SpanContext,
  SpanKind,
  type SpanRecord,
  STATUS_ERROR,
  startSpan,
} from './spans.js';
import { type SqlDescribe, tracedSqlPort } from './sql.js';
import type { ProcessTracing, RunSpanEnd, RunSpanInfo, TraceHeaders, TracingOptions } from './types.js';

const VERSION = '0.1.0';

/** Trace contexts kept for runs not started yet; the oldest go first (runs another process executes never start here). */
const ADOPTED_MAX = 10_000;
/** How long stopping waits for the last spans to be sent. */
const SHUTDOWN_MS = 5000;

/** Spans open for one run executing in this process. */
interface RunSpans {
  span: SpanRecord;
  ctx: SpanContext;
  nodeTypes: ReadonlyMap<string, string>;
  /** Open batches: their span and the node spans opened under them. */
  batches: Map<number, { span: SpanRecord; ctx: SpanContext; nodes: Map<string, SpanRecord> }>;
  /** Node spans under the run, ended with it: opened by requests outside any batch (a source's pages). */
  nodes: Map<string, { span: SpanRecord; ctx: SpanContext }>;
  /** Node counts at the last batch commit, to say what each node settled in the next one. */
  lastNodeCounts: Record<string, NodeCounts>;
  /** Each node's first and last batch here that it settled records in: the first's start, the last's commit. */
  settling: Map<string, { first: number; last: number }>;
}

/**
 * OpenTelemetry traces of runs: a span per run (a child of the trace a webhook call carried, else a
 * trace of its own), per batch (from the engine's `batch-started` to its `batch` event), per node in
 * a batch (what the node settled with that batch's commit; a node that sends requests has its span
 * from its first request on), and a CLIENT span per outgoing HTTP request (`tracedHttpClient`),
 * child of the span of the node and batch that sent it. Spans are built here from the engine's
 * events and requests' `origin`: the engine knows nothing of OpenTelemetry. Finished spans go to
 * the batcher, which sends them as OTLP.
 */
export class Tracing implements ProcessTracing {
  /** Trace contexts runs were asked for in (a webhook's traceparent), until they start here. */
  private readonly adopted = new Map<string, SpanContext>();
  private readonly runs = new Map<string, RunSpans>();

  constructor(private readonly batcher: SpanBatcher) {}

  adopt(runId: string, headers: TraceHeaders): void {
    // an invalid traceparent is ignored (W3C Trace Context): the run starts a trace of its own
    const extracted = parseTraceparent(headers.traceparent, headers.tracestate);
    if (!extracted) return;
    this.adopted.set(runId, extracted);
    if (this.adopted.size > ADOPTED_MAX) this.adopted.delete(this.adopted.keys().next().value as string);
  }

  runStarted(runId: string, info: RunSpanInfo): void {
    const before = this.runs.get(runId);
    if (before) this.end(before.span);
    const parent = this.adopted.get(runId);
    this.adopted.delete(runId);
    const attributes: Attributes = {
      'sluice.run.id': runId,
      'sluice.flow.name': info.flowName,
      'sluice.run.resumed': info.resumed,
    };
    if (info.flowId) attributes['sluice.flow.id'] = info.flowId;
    if (info.test) attributes['sluice.run.test'] = true;
    const span = startSpan(`run ${info.flowName}`, SpanKind.INTERNAL, parent, attributes);
    this.runs.set(runId, {
      span,
      ctx: contextOf(span),
      nodeTypes: info.nodeTypes,
      batches: new Map(),
      nodes: new Map(),
      lastNodeCounts: {},
      settling: new Map(),
    });
  }

  event(event: RunEvent): void {
    const run = this.runs.get(event.runId);
    if (!run) return;
    if (event.type === 'batch-started') {
      const span = startSpan('batch', SpanKind.INTERNAL, run.ctx, { 'sluice.batch.no': event.batchNo }, event.at);
      run.batches.set(event.batchNo, { span, ctx: contextOf(span), nodes: new Map() });
      return;
    }
    if (event.type !== 'batch') return;
    const { batch, nodeCounts } = event;
    const open = run.batches.get(batch.batchNo);
    run.batches.delete(batch.batchNo);
    const last = run.lastNodeCounts;
    const startedAt = open ? open.span.start : batch.startedAt;
    for (const nodeId in nodeCounts) {
      const counts = nodeCounts[nodeId] as NodeCounts;
      const before = last[nodeId];
      const settledIn = counts.in - (before?.in ?? 0);
      const settledOut = counts.out - (before?.out ?? 0);
      const opened = open?.nodes.get(nodeId);
      if (!opened && settledIn === 0 && settledOut === 0) continue;
      const seen = run.settling.get(nodeId);
      if (seen) seen.last = batch.finishedAt;
      else run.settling.set(nodeId, { first: startedAt, last: batch.finishedAt });
      // a node that sent no request for the batch has no span of its own in it (its time is the
      // batch's): what it settled shows in its span under the run
      if (!opened) continue;
      // a node that sent requests for the batch: its span there (their parent) says what it settled
      const a = opened.attributes;
      a['sluice.node.in'] = settledIn;
      a['sluice.node.out'] = settledOut;
      a['sluice.node.error'] = counts.error - (before?.error ?? 0);
      a['sluice.node.filtered'] = counts.filtered - (before?.filtered ?? 0);
      this.end(opened, batch.finishedAt);
      open?.nodes.delete(nodeId);
    }
    if (open) {
      for (const span of open.nodes.values()) this.end(span, batch.finishedAt);
      const a = open.span.attributes;
      a['sluice.batch.size'] = batch.size;
      a['sluice.batch.succeeded'] = batch.succeeded;
      a['sluice.batch.failed'] = batch.failed;
      a['sluice.batch.filtered'] = batch.filtered;
      this.end(open.span, batch.finishedAt);
    }
    run.lastNodeCounts = nodeCounts;
  }

  runEnded(runId: string, end: RunSpanEnd): void {
    this.adopted.delete(runId);
    const run = this.runs.get(runId);
    if (!run) return;
    this.runs.delete(runId);
    for (const open of run.batches.values()) {
      for (const span of open.nodes.values()) this.end(span);
      this.end(open.span);
    }
    // a span per node under the run: from its first request or the first batch it settled records
    // in, to the last commit it settled records in (or the run's end), with its counts at the end
    const endedAt = nowMs();
    const nodeCounts = end.nodeCounts ?? run.lastNodeCounts;
    const nodeIds = new Set([...run.nodes.keys(), ...run.settling.keys()]);
    for (const nodeId of nodeIds) {
      const seen = run.settling.get(nodeId);
      const span = run.nodes.get(nodeId)?.span ?? this.nodeSpan(run, nodeId, run.ctx, seen?.first);
      const counts = nodeCounts[nodeId];
      if (counts) {
        const a = span.attributes;
        a['sluice.node.in'] = counts.in;
        a['sluice.node.out'] = counts.out;
        a['sluice.node.error'] = counts.error;
        a['sluice.node.filtered'] = counts.filtered;
      }
      this.end(span, run.nodes.has(nodeId) || !seen ? endedAt : Math.max(seen.last, span.start));
    }
    const a = run.span.attributes;
    a['sluice.run.status'] = end.status;
    if (end.counts) {
      const { read, succeeded, filtered, failed, cancelled } = end.counts;
      a['sluice.run.read'] = read;
      a['sluice.run.succeeded'] = succeeded;
      a['sluice.run.filtered'] = filtered;
      a['sluice.run.failed'] = failed;
      a['sluice.run.cancelled'] = cancelled;
    }
    if (end.status === 'failed') run.span.status = { code: STATUS_ERROR, message: end.error ?? 'run failed' };
    this.end(run.span);
  }

  /**
   * The context a request from `origin` is sent in: the span of its node in its batch (opened by
   * its first request), else its node's span in the run (a source's pages, a connection's check
   * before the run); a request from no run (a connection checked from the API) starts a trace of
   * its own (undefined).
   */
  parentOf(origin: RequestOrigin | undefined): SpanContext | undefined {
    if (!origin) return undefined;
    const run = this.runs.get(origin.runId);
    if (!run) return undefined;
    const batch = origin.batchNo !== undefined ? run.batches.get(origin.batchNo) : undefined;
    if (batch) {
      let span = batch.nodes.get(origin.nodeId);
      if (!span) {
        span = this.nodeSpan(run, origin.nodeId, batch.ctx);
        batch.nodes.set(origin.nodeId, span);
      }
      return contextOf(span);
    }
    let node = run.nodes.get(origin.nodeId);
    if (!node) {
      const span = this.nodeSpan(run, origin.nodeId, run.ctx);
      node = { span, ctx: contextOf(span) };
      run.nodes.set(origin.nodeId, node);
    }
    return node.ctx;
  }

  wrapHttp(http: HttpClient): HttpClient {
    return tracedHttpClient(http, this);
  }

  wrapSql(sql: SqlPort, describe: SqlDescribe): SqlPort {
    return tracedSqlPort(sql, this, describe);
  }

  /** Writes the W3C `traceparent` (and `tracestate`) of a span into `headers`. */
  inject(ctx: SpanContext, headers: Record<string, string>): void {
    injectContext(ctx, headers);
  }

  /** Ends a span (now, or at `at`) and hands it to the batcher. */
  end(span: SpanRecord, at: number = nowMs()): void {
    span.end = at;
    this.batcher.add(span);
  }

  /** Resolves once spans can be exported: the export thread has started. */
  async ready(): Promise<void> {
    await this.batcher.started();
  }

  /** Sends the spans still buffered (a refused export is the batcher's to report, not the caller's). */
  async flush(): Promise<void> {
    await this.batcher.flush();
  }

  /** Ends the spans of runs still open here (the process stops), sends every span, stops exporting. */
  async shutdown(): Promise<void> {
    for (const runId of [...this.runs.keys()]) this.runEnded(runId, { status: 'interrupted' });
    // a collector that does not answer does not hold up the stop for long
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.batcher.shutdown(),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, SHUTDOWN_MS);
        timer.unref();
      }),
    ]);
    clearTimeout(timer);
  }

  private nodeSpan(run: RunSpans, nodeId: string, parent: SpanContext, start?: number): SpanRecord {
    const attributes: Attributes = { 'sluice.node.id': nodeId };
    const type = run.nodeTypes.get(nodeId);
    if (type) attributes['sluice.node.type'] = type;
    return startSpan(`node ${nodeId}`, SpanKind.INTERNAL, parent, attributes, start);
  }
}

/**
 * The tracer of this process (`startTracing` loads this module only when tracing is on): spans are
 * batched and sent over OTLP/HTTP in protobuf to `url`, with `service.name` from `OTEL_SERVICE_NAME`, else
 * `sluice`. Each Sluice instance has its own (two in one process, in tests, trace apart).
 */
export function createTracing(env: NodeJS.ProcessEnv, url: string | undefined, options: TracingOptions): Tracing {
  const origin = {
    resource: { 'service.name': env.OTEL_SERVICE_NAME?.trim() || 'sluice', 'service.version': VERSION },
    scope: { name: 'sluice', version: VERSION },
  };
  const timeout = Number(env.OTEL_EXPORTER_OTLP_TRACES_TIMEOUT ?? env.OTEL_EXPORTER_OTLP_TIMEOUT);
  const exporter =
    options.exporter ??
    new ThreadExporter(
      url as string,
      parseHeaders(env.OTEL_EXPORTER_OTLP_TRACES_HEADERS ?? env.OTEL_EXPORTER_OTLP_HEADERS),
      Number.isFinite(timeout) && timeout > 0 ? timeout : 10_000,
      origin,
    );
  const { logger } = options;
  if (logger) {
    logger.info({ endpoint: url }, 'OpenTelemetry traces are on');
    const protocol = (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL)?.trim();
    if (protocol && protocol !== 'http/protobuf')
      logger.warn({ protocol }, `OTEL_EXPORTER_OTLP_PROTOCOL: Sluice sends traces as http/protobuf, not ${protocol}`);
  }
  return new Tracing(new SpanBatcher(exporter, origin, batchOptions(env), logger, url ?? 'the exporter'));
}

/** `OTEL_EXPORTER_OTLP_HEADERS`: `name=value` pairs separated by commas, values URL-encoded. */
function parseHeaders(text: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const pair of (text ?? '').split(',')) {
    const at = pair.indexOf('=');
    if (at <= 0) continue;
    headers[pair.slice(0, at).trim()] = decodeURIComponent(pair.slice(at + 1).trim());
  }
  return headers;
}
