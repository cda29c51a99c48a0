import { Worker } from 'node:worker_threads';
import type { CodeRequest, CodeResult, CodeSandbox } from '@sluice/engine';
import { threadScript } from '../paths.js';
import type { CodeAnswer, CodeJob } from './protocol.js';

/** How long past a record's time limit the host waits before it ends the thread itself. */
const GRACE_MS = 1_000;

interface Pending {
  job: CodeJob;
  resolve: (result: CodeResult) => void;
}

/** Records handed to the thread ahead of their turn, so it never waits for the next one. */
const WINDOW = 16;

/**
 * Runs code nodes' JavaScript in QuickJS on a thread of its own (code-worker.mjs), so a record that
 * loops or allocates never holds the process's event loop: the API, lease renewals and other runs go
 * on meanwhile. Records go in order, up to `WINDOW` of them handed over ahead. QuickJS stops code at
 * its deadline (its interrupt handler) and at its memory limit; should a record's code still be
 * running `GRACE_MS` past its deadline, counted from when the record before it was answered (native
 * work QuickJS does not interrupt), the thread is ended and another started for the records after it,
 * and the record fails by its time limit all the same.
 */
export class QuickJsSandbox implements CodeSandbox {
  private worker: Worker | undefined;
  private ready: Promise<void> | undefined;
  /** Not handed to the thread yet. */
  private readonly queue: Pending[] = [];
  /** Handed to the thread, in order; the first is the one it runs (or will next). */
  private readonly sent: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private nextId = 1;
  private closed = false;
  private sending = false;

  run(request: CodeRequest): Promise<CodeResult> {
    if (this.closed) return Promise.resolve(CLOSED);
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

  /** Ends the thread; the records it had and those still waiting are answered that it was closed. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    for (const p of [...this.sent.splice(0), ...this.queue.splice(0)]) p.resolve(CLOSED);
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }

  /** Hands records to the thread until `WINDOW` are there. */
  private async pump(): Promise<void> {
    if (this.sending || this.closed) return;
    this.sending = true;
    try {
      while (!this.closed && this.queue.length > 0 && this.sent.length < WINDOW) {
        let worker: Worker;
        try {
          worker = await this.start();
        } catch (err) {
          const failed = this.queue.shift() as Pending;
          failed.resolve({
            ok: false,
            reason: 'threw',
            message: `the sandbox could not start: ${(err as Error).message}`,
          });
          continue;
        }
        if (this.worker !== worker) continue; // it ended meanwhile: start another
        const pending = this.queue.shift() as Pending;
        this.sent.push(pending);
        worker.postMessage(pending.job);
        if (this.sent.length === 1) this.arm();
      }
    } finally {
      this.sending = false;
    }
  }

  private start(): Promise<Worker> {
    if (this.closed) return Promise.reject(new Error('the sandbox was closed'));
    if (this.worker && this.ready) {
      const worker = this.worker;
      return this.ready.then(() => worker);
    }
    const worker = new Worker(threadScript('code/code-worker.mjs'));
    worker.unref();
    this.worker = worker;
    this.ready = new Promise((resolve, reject) => {
      worker.once('error', reject);
      worker.once('message', () => resolve());
    });
    // a thread that fails ends: its exit settles what it was running
    worker.on('error', () => {});
    worker.on('message', (answer: CodeAnswer | { ready: true }) => {
      if ('id' in answer && this.worker === worker) this.answered(answer);
    });
    worker.on('exit', () => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.ready = undefined;
      // the record it was running failed with it; the ones after it go to a new thread
      this.lost({ ok: false, reason: 'threw', message: 'the sandbox stopped' });
    });
    return this.ready.then(() => worker);
  }

  /** Starts the deadline of the record the thread runs now. */
  private arm(): void {
    clearTimeout(this.timer);
    const head = this.sent[0];
    if (head) this.timer = setTimeout(() => this.overran(), head.job.timeoutMs + GRACE_MS);
  }

  private answered(answer: CodeAnswer): void {
    const head = this.sent[0];
    if (!head || head.job.id !== answer.id) return;
    this.sent.shift();
    if (answer.ending) {
      // the thread ends after this answer: the records handed to it after this one go to another
      this.worker = undefined;
      this.ready = undefined;
      this.queue.unshift(...this.sent.splice(0));
    }
    this.arm();
    head.resolve(resultOf(answer, head.job));
    void this.pump();
  }

  /** The thread is gone: its current record fails as `failure` says, the others are handed over again. */
  private lost(failure: Omit<Extract<CodeAnswer, { ok: false }>, 'id'>): void {
    clearTimeout(this.timer);
    const head = this.sent.shift();
    this.queue.unshift(...this.sent.splice(0));
    if (head) head.resolve(resultOf({ id: head.job.id, ...failure }, head.job));
    void this.pump();
  }

  /** The record's code ran past its deadline without QuickJS stopping it: end the thread. */
  private overran(): void {
    const worker = this.worker;
    this.worker = undefined;
    this.ready = undefined;
    void worker?.terminate();
    this.lost({ ok: false, reason: 'time', message: 'interrupted' });
  }
}

const CLOSED: CodeResult = { ok: false, reason: 'threw', message: 'the sandbox was closed' };

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
