import {
  type Attributes,
  type Context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { type ExportResult, ExportResultCode, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, type ReadableSpan, type SpanExporter, TracerProvider } from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import type { HttpClient, RequestOrigin, RunEvent } from '@sluice/engine';
import type { NodeCounts } from '@sluice/shared';
import type { Logger } from '../logger.js';
import { tracedHttpClient } from './http.js';
import type { ProcessTracing, RunSpanEnd, RunSpanInfo, TraceHeaders, TracingOptions } from './types.js';

/** Trace contexts kept for runs not started yet; the oldest go first (runs another process executes never start here). */
const ADOPTED_MAX = 10_000;
/** How long stopping waits for the last spans to be sent. */
const SHUTDOWN_MS = 5000;

/** Spans open for one run executing in this process. */
interface RunSpans {
  span: Span;
  ctx: Context;
  nodeTypes: ReadonlyMap<string, string>;
  /** Open batches: their span and the node spans opened under them. */
  batches: Map<number, { span: Span; ctx: Context; at: number; nodes: Map<string, Span> }>;
  /** Node spans of requests outside any batch (a source's pages), ended with the run. */
  nodes: Map<string, { span: Span; ctx: Context }>;
  /** Node counts at the last batch commit, to say what each node settled in the next one. */
  lastNodeCounts: Record<string, NodeCounts>;
}

/**
 * OpenTelemetry traces of runs: a span per run (a child of the trace a webhook call carried, else a
 * trace of its own), per batch (from the engine's `batch-started` to its `batch` event), per node in
 * a batch (what the node settled with that batch's commit; a node that sends requests has its span
 * from its first request on), and a CLIENT span per outgoing HTTP request (`tracedHttpClient`),
 * child of the span of the node and batch that sent it. Spans are built here from the engine's
 * events and requests' `origin`: the engine knows nothing of OpenTelemetry.
 */
export class Tracing implements ProcessTracing {
  readonly tracer: Tracer;
  private readonly propagator = new W3CTraceContextPropagator();
  /** Trace contexts runs were asked for in (a webhook's traceparent), until they start here. */
  private readonly adopted = new Map<string, Context>();
  private readonly runs = new Map<string, RunSpans>();

  constructor(
    private readonly provider: TracerProvider,
    version = '0.1.0',
  ) {
    this.tracer = provider.getTracer('sluice', version);
  }

  adopt(runId: string, headers: TraceHeaders): void {
    if (!headers.traceparent) return;
    const extracted = this.propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter);
    // an invalid traceparent is ignored (W3C Trace Context): the run starts a trace of its own
    if (!trace.getSpanContext(extracted)) return;
    this.adopted.set(runId, extracted);
    if (this.adopted.size > ADOPTED_MAX) this.adopted.delete(this.adopted.keys().next().value as string);
  }

  runStarted(runId: string, info: RunSpanInfo): void {
    this.runs.get(runId)?.span.end();
    const parent = this.adopted.get(runId) ?? ROOT_CONTEXT;
    this.adopted.delete(runId);
    const attributes: Attributes = {
      'sluice.run.id': runId,
      'sluice.flow.name': info.flowName,
      'sluice.run.resumed': info.resumed,
    };
    if (info.flowId) attributes['sluice.flow.id'] = info.flowId;
    if (info.test) attributes['sluice.run.test'] = true;
    const span = this.tracer.startSpan(`run ${info.flowName}`, { kind: SpanKind.INTERNAL, attributes }, parent);
    this.runs.set(runId, {
      span,
      ctx: trace.setSpan(parent, span),
      nodeTypes: info.nodeTypes,
      batches: new Map(),
      nodes: new Map(),
      lastNodeCounts: {},
    });
  }

  event(event: RunEvent): void {
    const run = this.runs.get(event.runId);
    if (!run) return;
    if (event.type === 'batch-started') {
      const span = this.tracer.startSpan(
        'batch',
        { kind: SpanKind.INTERNAL, startTime: new Date(event.at), attributes: { 'sluice.batch.no': event.batchNo } },
        run.ctx,
      );
      run.batches.set(event.batchNo, {
        span,
        ctx: trace.setSpan(run.ctx, span),
        at: event.at,
        nodes: new Map(),
      });
      return;
    }
    if (event.type !== 'batch') return;
    const { batch, nodeCounts } = event;
    const open = run.batches.get(batch.batchNo);
    run.batches.delete(batch.batchNo);
    if (open) {
      // what each node settled with this commit: a span per node of the batch
      for (const [nodeId, counts] of Object.entries(nodeCounts)) {
        const before = run.lastNodeCounts[nodeId];
        const delta = {
          in: counts.in - (before?.in ?? 0),
          out: counts.out - (before?.out ?? 0),
          error: counts.error - (before?.error ?? 0),
          filtered: counts.filtered - (before?.filtered ?? 0),
        };
        const opened = open.nodes.get(nodeId);
        if (!opened && delta.in === 0 && delta.out === 0) continue;
        const span = opened ?? this.nodeSpan(run, nodeId, open.ctx, new Date(open.at));
        span.setAttributes({
          'sluice.node.in': delta.in,
          'sluice.node.out': delta.out,
          'sluice.node.error': delta.error,
          'sluice.node.filtered': delta.filtered,
        });
        span.end(new Date(batch.finishedAt));
        open.nodes.delete(nodeId);
      }
      for (const span of open.nodes.values()) span.end(new Date(batch.finishedAt));
      open.span.setAttributes({
        'sluice.batch.size': batch.size,
        'sluice.batch.succeeded': batch.succeeded,
        'sluice.batch.failed': batch.failed,
        'sluice.batch.filtered': batch.filtered,
      });
      open.span.end(new Date(batch.finishedAt));
    }
    run.lastNodeCounts = nodeCounts;
  }

  runEnded(runId: string, end: RunSpanEnd): void {
    this.adopted.delete(runId);
    const run = this.runs.get(runId);
    if (!run) return;
    this.runs.delete(runId);
    for (const open of run.batches.values()) {
      for (const span of open.nodes.values()) span.end();
      open.span.end();
    }
    for (const { span } of run.nodes.values()) span.end();
    run.span.setAttribute('sluice.run.status', end.status);
    if (end.counts) {
      const { read, succeeded, filtered, failed, cancelled } = end.counts;
      run.span.setAttributes({
        'sluice.run.read': read,
        'sluice.run.succeeded': succeeded,
        'sluice.run.filtered': filtered,
        'sluice.run.failed': failed,
        'sluice.run.cancelled': cancelled,
      });
    }
    if (end.status === 'failed') run.span.setStatus({ code: SpanStatusCode.ERROR, message: end.error ?? 'run failed' });
    run.span.end();
  }

  /**
   * The context a request from `origin` is sent in: the span of its node in its batch (opened by
   * its first request), else its node's span in the run (a source's pages, a connection's check
   * before the run); a request from no run (a connection checked from the API) starts a trace of
   * its own.
   */
  parentOf(origin: RequestOrigin | undefined): Context {
    if (!origin) return ROOT_CONTEXT;
    const run = this.runs.get(origin.runId);
    if (!run) return ROOT_CONTEXT;
    const batch = origin.batchNo !== undefined ? run.batches.get(origin.batchNo) : undefined;
    if (batch) {
      let span = batch.nodes.get(origin.nodeId);
      if (!span) {
        span = this.nodeSpan(run, origin.nodeId, batch.ctx);
        batch.nodes.set(origin.nodeId, span);
      }
      return trace.setSpan(batch.ctx, span);
    }
    let node = run.nodes.get(origin.nodeId);
    if (!node) {
      const span = this.nodeSpan(run, origin.nodeId, run.ctx);
      node = { span, ctx: trace.setSpan(run.ctx, span) };
      run.nodes.set(origin.nodeId, node);
    }
    return node.ctx;
  }

  wrapHttp(http: HttpClient): HttpClient {
    return tracedHttpClient(http, this);
  }

  /** Writes the W3C `traceparent` (and `tracestate`) of the span in `ctx` into `headers`. */
  inject(ctx: Context, headers: Record<string, string>): void {
    this.propagator.inject(ctx, headers, defaultTextMapSetter);
  }

  /** Sends the spans still buffered (a refused export is the exporter's to report, not the caller's). */
  async flush(): Promise<void> {
    await this.provider.forceFlush().catch(() => {});
  }

  /** Ends the spans of runs still open here (the process stops), sends every span, stops exporting. */
  async shutdown(): Promise<void> {
    for (const runId of [...this.runs.keys()]) this.runEnded(runId, { status: 'interrupted' });
    // a collector that does not answer does not hold up the stop for long
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.provider.shutdown().catch(() => {}),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, SHUTDOWN_MS);
        timer.unref();
      }),
    ]);
    clearTimeout(timer);
  }

  private nodeSpan(run: RunSpans, nodeId: string, parent: Context, startTime?: Date): Span {
    const attributes: Attributes = { 'sluice.node.id': nodeId };
    const type = run.nodeTypes.get(nodeId);
    if (type) attributes['sluice.node.type'] = type;
    return this.tracer.startSpan(
      `node ${nodeId}`,
      { kind: SpanKind.INTERNAL, attributes, ...(startTime !== undefined ? { startTime } : {}) },
      parent,
    );
  }
}

/**
 * The tracer of this process (`startTracing` loads this module only when tracing is on): spans are
 * batched and sent as OTLP/HTTP JSON to `url`, with `service.name` from `OTEL_SERVICE_NAME`, else
 * `sluice`. The provider is this process's own (not registered globally), so two Sluice instances
 * in one process (tests) trace apart.
 */
export function createTracing(env: NodeJS.ProcessEnv, url: string | undefined, options: TracingOptions): Tracing {
  const given =
    options.exporter ??
    new OTLPTraceExporter({ url: url as string, headers: parseHeaders(env.OTEL_EXPORTER_OTLP_HEADERS) });
  const { logger } = options;
  const exporter = logger ? new ReportingExporter(given, logger, url ?? 'the exporter') : given;
  if (logger) {
    logger.info({ endpoint: url }, 'OpenTelemetry traces are on');
    const protocol = env.OTEL_EXPORTER_OTLP_PROTOCOL?.trim();
    if (protocol && protocol !== 'http/json')
      logger.warn({ protocol }, `OTEL_EXPORTER_OTLP_PROTOCOL: Sluice sends traces as http/json, not ${protocol}`);
  }
  const delay = Number(env.OTEL_BSP_SCHEDULE_DELAY);
  const provider = new TracerProvider({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: env.OTEL_SERVICE_NAME?.trim() || 'sluice',
      [ATTR_SERVICE_VERSION]: '0.1.0',
    }),
    spanProcessors: [
      new BatchSpanProcessor({
        exporter,
        ...(Number.isFinite(delay) && delay > 0 ? { scheduledDelayMillis: delay } : {}),
      }),
    ],
  });
  return new Tracing(provider);
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

/**
 * An exporter that says when spans cannot be sent (a warning at the first failure, not one per
 * batch while the collector stays away) and when they can again.
 */
class ReportingExporter implements SpanExporter {
  private failing = false;

  constructor(
    private readonly inner: SpanExporter,
    private readonly logger: Logger,
    private readonly endpoint: string,
  ) {}

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.inner.export(spans, (result) => {
      const ok = result.code === ExportResultCode.SUCCESS;
      if (!ok && !this.failing) {
        this.logger.warn(
          { endpoint: this.endpoint, err: result.error },
          'traces could not be sent; they are dropped until the collector answers',
        );
      } else if (ok && this.failing) this.logger.info({ endpoint: this.endpoint }, 'traces are sent again');
      this.failing = !ok;
      done(result);
    });
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}
