import type { HttpClient, RunEvent, SqlPort } from '@sluice/engine';
import type { NodeCounts, RunCounts } from '@sluice/shared';
import type { Logger } from '../logger.js';

/** The trace context a caller sent with a request (W3C Trace Context headers). */
export interface TraceHeaders {
  traceparent?: string | undefined;
  tracestate?: string | undefined;
}

/** What a run span says about the run it stands for. */
export interface RunSpanInfo {
  flowId: string | null;
  flowName: string;
  /** The node types of the flow by node id (node spans say their type). */
  nodeTypes: ReadonlyMap<string, string>;
  /** A run resumed from its checkpoint (its first life's span was in the process that died). */
  resumed: boolean;
  test?: boolean;
}

/** How a run ended, for its span. */
export interface RunSpanEnd {
  status: string;
  counts?: RunCounts;
  /** Each node's counts at the end (what the node spans under the run report). */
  nodeCounts?: Record<string, NodeCounts>;
  error?: string;
}

/**
 * What the run queue tells the tracer: a run was asked for in a caller's trace, started here, made
 * an event, ended. Every method is cheap and never throws; with tracing off there is no tracer at
 * all (the runner's `tracing` is undefined), so none of this runs.
 */
export interface RunTracing {
  adopt(runId: string, headers: TraceHeaders): void;
  runStarted(runId: string, info: RunSpanInfo): void;
  event(event: RunEvent): void;
  runEnded(runId: string, end: RunSpanEnd): void;
}

/** The tracer of a process: the run queue's, the HTTP client's wrapper, and its end. */
export interface ProcessTracing extends RunTracing {
  /** The client with a CLIENT span and a `traceparent` per request. */
  wrapHttp(http: HttpClient): HttpClient;
  /** The SQL port with a CLIENT span per call (`describe`: a connection's database, for the span). */
  wrapSql(sql: SqlPort, describe: import('./sql.js').SqlDescribe): SqlPort;
  /** Sends the spans still buffered. */
  flush(): Promise<void>;
  /** Ends the spans of runs still open here (the process stops), sends every span, stops exporting. */
  shutdown(): Promise<void>;
}

export interface TracingOptions {
  /** Where spans go instead of the OTLP/HTTP exporter (tests give an in-memory one). */
  exporter?: import('./exporter.js').SpanExporter;
  /** Told where traces go, and when they cannot be sent (once per outage) and can again. */
  logger?: Logger;
}
