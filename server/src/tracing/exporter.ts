import { Worker } from 'node:worker_threads';
import type { Logger } from '../logger.js';
import { threadScript } from '../paths.js';
import { type Origin, RequestBuilder } from './otlp.js';
import type { SpanRecord } from './spans.js';

/**
 * Where export requests go (an `ExportTraceServiceRequest` in protobuf, with `spans` spans): a
 * collector over OTLP/HTTP, or (tests) memory. Rejects when they could not be sent.
 */
export interface SpanExporter {
  export(request: Buffer, spans: number): Promise<void>;
  shutdown?(): Promise<void>;
}

/**
 * Sends export requests to a collector over OTLP/HTTP (`application/x-protobuf`) from a thread of
 * its own (`export-thread.mjs`): each request's bytes are transferred to it, not copied, and the run's
 * thread only hears whether they were sent. Retries (429, 502-504, a lost connection) happen there.
 */
export class ThreadExporter implements SpanExporter {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();
  private nextId = 1;

  constructor(url: string, headers: Record<string, string>, timeoutMs: number) {
    this.worker = new Worker(threadScript('tracing/export-thread.mjs'), { workerData: { url, headers, timeoutMs } });
    // an idle exporter does not keep the process alive; one with requests under way does
    this.worker.unref();
    this.worker.on('message', (m: { id: number; error?: string }) => {
      const waiter = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      if (this.waiting.size === 0) this.worker.unref();
      if (m.error === undefined) waiter?.resolve();
      else waiter?.reject(new Error(m.error));
    });
    this.worker.on('error', (err) => {
      for (const waiter of this.waiting.values()) waiter.reject(err);
      this.waiting.clear();
    });
  }

  export(request: Buffer): Promise<void> {
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.ref();
      // a buffer larger than Node's pool is the request's own (RequestBuilder's are), so it is handed
      // over whole; a small one may share its memory with other buffers, so it goes as a copy
      const own = request.buffer.byteLength > Buffer.poolSize ? request : new Uint8Array(request);
      const { buffer, byteOffset, byteLength } = own;
      this.worker.postMessage({ id, buffer, offset: byteOffset, length: byteLength }, [buffer as ArrayBuffer]);
    });
  }

  async shutdown(): Promise<void> {
    this.worker.postMessage('close');
    await this.worker.terminate();
  }
}

/** How spans are gathered before they are sent (OpenTelemetry's `OTEL_BSP_*` settings, same defaults). */
export interface BatchOptions {
  /** Spans kept waiting at most; more are dropped (and counted) until the collector catches up. */
  maxQueueSize: number;
  /** Spans per export request. */
  maxExportBatchSize: number;
  /** How long a span may wait for its batch to fill before it is sent anyway. */
  scheduledDelayMs: number;
  /** Export requests under way at once. */
  maxConcurrentExports: number;
}

export function batchOptions(env: NodeJS.ProcessEnv): BatchOptions {
  const positive = (text: string | undefined, fallback: number) => {
    const n = Number(text);
    return Number.isFinite(n) && n > 0 ? Math.floor(n) : fallback;
  };
  const maxExportBatchSize = positive(env.OTEL_BSP_MAX_EXPORT_BATCH_SIZE, 512);
  return {
    maxQueueSize: Math.max(positive(env.OTEL_BSP_MAX_QUEUE_SIZE, 2048), maxExportBatchSize),
    maxExportBatchSize,
    scheduledDelayMs: positive(env.OTEL_BSP_SCHEDULE_DELAY, 5000),
    maxConcurrentExports: 4,
  };
}

/**
 * Writes finished spans into export requests (as they end: `RequestBuilder`) and hands each request
 * to the exporter when it holds `maxExportBatchSize` spans, or when its first span has waited
 * `scheduledDelayMs`. A run never waits for an export: when the collector falls behind, spans over
 * `maxQueueSize` waiting are dropped and counted. Says when spans cannot be sent (one warning, not one
 * per request while the collector stays away) and when they can again.
 */
export class SpanBatcher {
  private current: RequestBuilder | undefined;
  /** Requests finished and not handed to the exporter yet (at most `maxConcurrentExports` are under way). */
  private readonly ready: { body: Buffer; spans: number }[] = [];
  private readySpans = 0;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly timer: NodeJS.Timeout;
  private failing = false;
  /** Spans dropped since the last word about them. */
  private dropped = 0;

  constructor(
    private readonly exporter: SpanExporter,
    private readonly origin: Origin,
    private readonly options: BatchOptions,
    private readonly logger?: Logger,
    private readonly endpoint = 'the exporter',
  ) {
    this.timer = setInterval(() => {
      this.seal();
      this.pump();
    }, options.scheduledDelayMs);
    this.timer.unref();
  }

  /** Takes a finished span (one not sampled is not sent). */
  add(span: SpanRecord): void {
    if (!span.sampled) return;
    if (this.readySpans + (this.current?.count ?? 0) >= this.options.maxQueueSize) {
      if (this.dropped++ === 0) {
        this.logger?.warn(
          { endpoint: this.endpoint, maxQueueSize: this.options.maxQueueSize },
          'spans are dropped: the collector does not take them as fast as runs make them',
        );
      }
      return;
    }
    this.current ??= new RequestBuilder(this.origin);
    this.current.add(span);
    if (this.current.count >= this.options.maxExportBatchSize) {
      this.seal();
      this.pump();
    }
  }

  /** Sends every span waiting, and waits for the exports under way. */
  async flush(): Promise<void> {
    this.seal();
    while (this.ready.length > 0 || this.inFlight.size > 0) {
      this.pump();
      await Promise.race([...this.inFlight]);
    }
  }

  async shutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
    await this.exporter.shutdown?.();
  }

  /** Finishes the request being filled, if it holds any span. */
  private seal(): void {
    const request = this.current;
    if (!request || request.count === 0) return;
    this.current = undefined;
    this.ready.push({ body: request.finish(), spans: request.count });
    this.readySpans += request.count;
  }

  /** Hands finished requests to the exporter, as many as may be under way. */
  private pump(): void {
    while (this.ready.length > 0 && this.inFlight.size < this.options.maxConcurrentExports) {
      const { body, spans } = this.ready.shift() as { body: Buffer; spans: number };
      this.readySpans -= spans;
      const sent = this.exporter.export(body, spans).then(
        () => this.reported(true),
        (err: unknown) => this.reported(false, err),
      );
      this.inFlight.add(sent);
      void sent.finally(() => {
        this.inFlight.delete(sent);
        this.pump();
      });
    }
  }

  private reported(ok: boolean, err?: unknown): void {
    if (!ok && !this.failing) {
      this.logger?.warn(
        { endpoint: this.endpoint, err },
        'traces could not be sent; they are dropped until the collector answers',
      );
    } else if (ok && this.failing) this.logger?.info({ endpoint: this.endpoint }, 'traces are sent again');
    this.failing = !ok;
    if (ok && this.dropped > 0) {
      this.logger?.info(
        { endpoint: this.endpoint, dropped: this.dropped },
        'spans were dropped while the collector fell behind',
      );
      this.dropped = 0;
    }
  }
}
