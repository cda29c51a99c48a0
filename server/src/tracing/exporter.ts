import { Worker } from 'node:worker_threads';
import type { Logger } from '../logger.js';
import { threadScript } from '../paths.js';
import type { Origin } from './otlp.mjs';
import { type SpanChunk, SpanLog } from './span-log.js';
import type { SpanRecord } from './spans.js';

/**
 * Where chunks of ended spans go, each to become one `ExportTraceServiceRequest` (`encodeRequest` in
 * otlp.mjs): a collector over OTLP/HTTP from the export thread, or (tests) memory. Rejects when they
 * could not be sent.
 */
export interface SpanExporter {
  export(chunk: SpanChunk, origin: Origin): Promise<void>;
  /** Resolves once spans can be exported (a thread has started); rejects when they never can. */
  ready?(): Promise<void>;
  shutdown?(): Promise<void>;
}

/**
 * Sends spans to a collector over OTLP/HTTP (`application/x-protobuf`) from a thread of its own
 * (`export-thread.mjs`): each chunk's arrays are transferred to it, not copied; it encodes them and
 * posts them, retrying there (429, 502-504, a lost connection); the run's thread only hears whether
 * they were sent.
 */
export class ThreadExporter implements SpanExporter {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();
  private nextId = 1;
  private readonly started: Promise<void>;

  constructor(url: string, headers: Record<string, string>, timeoutMs: number, origin: Origin) {
    this.worker = new Worker(threadScript('tracing/export-thread.mjs'), {
      workerData: { url, headers, timeoutMs, origin },
    });
    this.started = new Promise<void>((resolve, reject) => {
      const ready = (m: unknown) => {
        if (m !== 'ready') return;
        this.worker.off('message', ready);
        this.worker.off('error', failed);
        resolve();
      };
      const failed = (err: Error) => {
        this.worker.off('message', ready);
        reject(new Error(`the trace export thread did not start: ${err.message}`));
      };
      this.worker.on('message', ready);
      this.worker.once('error', failed);
    });
    // a start that fails is reported by ready(); nothing else waits on it. The thread keeps the process
    // alive while it starts (a start awaits it); once started, an idle exporter does not, one with
    // requests under way does
    this.started.then(
      () => {
        if (this.waiting.size === 0) this.worker.unref();
      },
      () => {},
    );
    this.worker.on('message', (m: { id: number; error?: string } | 'ready') => {
      if (m === 'ready') return;
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

  ready(): Promise<void> {
    return this.started;
  }

  export(chunk: SpanChunk): Promise<void> {
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.ref();
      // the chunk's arrays are its own: handed over whole, the log that filled them is done with them
      this.worker.postMessage({ id, chunk }, [chunk.nums.buffer as ArrayBuffer, chunk.attrs.buffer as ArrayBuffer]);
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
 * Copies ended spans into the span log (`SpanLog`) and hands each chunk to the exporter when it holds
 * `maxExportBatchSize` spans, or when its first span has waited `scheduledDelayMs`. A run never waits for an export: when the collector falls behind, spans over
 * `maxQueueSize` waiting are dropped and counted. Says when spans cannot be sent (one warning, not one
 * per request while the collector stays away) and when they can again.
 */
export class SpanBatcher {
  private current: SpanLog | undefined;
  /** Chunks finished and not handed to the exporter yet (at most `maxConcurrentExports` are under way). */
  private readonly ready: SpanChunk[] = [];
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
    this.current ??= new SpanLog(this.options.maxExportBatchSize);
    this.current.add(span);
    if (this.current.full) {
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

  /** Resolves once the exporter can take spans. */
  async started(): Promise<void> {
    await this.exporter.ready?.();
  }

  async shutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
    await this.exporter.shutdown?.();
  }

  /** Finishes the chunk being filled, if it holds any span. */
  private seal(): void {
    const log = this.current;
    if (!log || log.count === 0) return;
    this.current = undefined;
    this.ready.push(log.finish());
    this.readySpans += log.count;
  }

  /** Hands finished chunks to the exporter, as many as may be under way. */
  private pump(): void {
    while (this.ready.length > 0 && this.inFlight.size < this.options.maxConcurrentExports) {
      const chunk = this.ready.shift() as SpanChunk;
      this.readySpans -= chunk.count;
      const sent = this.exporter.export(chunk, this.origin).then(
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
