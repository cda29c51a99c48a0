import { Worker } from 'node:worker_threads';
import type { CodeRequest, CodeResult, CodeSandbox } from '@sluice/engine';
import type { CodeAnswer, CodeJob } from './protocol.js';

/** How long past a record's time limit the host waits before it ends the thread itself. */
const GRACE_MS = 1_000;

interface Pending {
  job: CodeJob;
  resolve: (result: CodeResult) => void;
}

/**
 * Runs code nodes' JavaScript in QuickJS on a thread of its own (code-worker.mjs), so a record that
 * loops or allocates never holds the process's event loop: the API, lease renewals and other runs go
 * on meanwhile. Records go one at a time, in order. QuickJS stops code at its deadline (its interrupt
 * handler) and at its memory limit; should a record's code still be running `GRACE_MS` past its
 * deadline (native work QuickJS does not interrupt), the thread is ended and another started, and the
 * record fails by its time limit all the same.
 */
export class QuickJsSandbox implements CodeSandbox {
  private worker: Worker | undefined;
  private ready: Promise<void> | undefined;
  private readonly queue: Pending[] = [];
  private current: { pending: Pending; timer: NodeJS.Timeout } | undefined;
  private nextId = 1;
  private closed = false;

  run(request: CodeRequest): Promise<CodeResult> {
    if (this.closed) return Promise.resolve({ ok: false, reason: 'threw', message: 'the sandbox was closed' });
    let input: string;
    try {
      input = JSON.stringify(request.record);
    } catch (err) {
      return Promise.resolve({
        ok: false,
        reason: 'threw',
        message: `the record is not JSON: ${(err as Error).message}`,
      });
    }
    const job: CodeJob = {
      id: this.nextId++,
      code: request.code,
      input,
      timeoutMs: request.timeoutMs,
      memoryBytes: request.memoryBytes,
    };
    return new Promise((resolve) => {
      this.queue.push({ job, resolve });
      void this.pump();
    });
  }

  /** Ends the thread; requests still waiting fail. */
  async close(): Promise<void> {
    this.closed = true;
    const current = this.current;
    if (current)
      this.settle({ id: current.pending.job.id, ok: false, reason: 'threw', message: 'the sandbox was closed' });
    for (const p of this.queue.splice(0)) p.resolve({ ok: false, reason: 'threw', message: 'the sandbox was closed' });
    await this.worker?.terminate();
    this.worker = undefined;
  }

  private async pump(): Promise<void> {
    if (this.closed || this.current || this.queue.length === 0) return;
    const pending = this.queue.shift() as Pending;
    const timer = setTimeout(() => this.overran(), pending.job.timeoutMs + GRACE_MS);
    this.current = { pending, timer };
    try {
      const worker = await this.start();
      worker.postMessage(pending.job);
    } catch (err) {
      this.settle({
        id: pending.job.id,
        ok: false,
        reason: 'threw',
        message: `the sandbox could not start: ${(err as Error).message}`,
      });
    }
  }

  private start(): Promise<Worker> {
    if (this.closed) return Promise.reject(new Error('the sandbox was closed'));
    if (this.worker && this.ready) {
      const worker = this.worker;
      return this.ready.then(() => worker);
    }
    const worker = new Worker(new URL('./code-worker.mjs', import.meta.url));
    worker.unref();
    this.worker = worker;
    this.ready = new Promise((resolve, reject) => {
      worker.once('error', reject);
      worker.once('message', () => resolve());
    });
    // a thread that fails ends: its exit settles what it was running
    worker.on('error', () => {});
    worker.on('message', (answer: CodeAnswer | { ready: true }) => {
      if ('id' in answer) this.settle(answer);
    });
    worker.on('exit', () => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.ready = undefined;
      if (this.current) {
        this.settle({ id: this.current.pending.job.id, ok: false, reason: 'threw', message: 'the sandbox stopped' });
      }
    });
    return this.ready.then(() => worker);
  }

  private settle(answer: CodeAnswer): void {
    const current = this.current;
    if (!current || current.pending.job.id !== answer.id) return;
    clearTimeout(current.timer);
    this.current = undefined;
    current.pending.resolve(resultOf(answer, current.pending.job));
    void this.pump();
  }

  /** The record's code ran past its deadline without QuickJS stopping it: end the thread. */
  private overran(): void {
    const current = this.current;
    if (!current) return;
    const worker = this.worker;
    this.worker = undefined;
    this.ready = undefined;
    this.settle({ id: current.pending.job.id, ok: false, reason: 'time', message: 'interrupted' });
    void worker?.terminate();
  }
}

/** The engine's result for an answer, with messages that name the limit reached. */
function resultOf(answer: CodeAnswer, job: CodeJob): CodeResult {
  if (!answer.ok) {
    if (answer.reason === 'time')
      return { ok: false, reason: 'time', message: `ran longer than ${job.timeoutMs} ms (the limit)` };
    if (answer.reason === 'memory') {
      return {
        ok: false,
        reason: 'memory',
        message: `used more than ${Math.round(job.memoryBytes / 1048576)} MB (the limit)`,
      };
    }
    return answer.message.startsWith('the sandbox')
      ? { ok: false, reason: 'threw', message: answer.message }
      : { ok: false, reason: 'threw', message: `threw ${answer.message}` };
  }
  if (answer.output === null) return { ok: true, value: undefined };
  return { ok: true, value: JSON.parse(answer.output) };
}
