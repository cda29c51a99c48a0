import type { Waiting } from '../ports.js';
import type { ExecutionOptions } from './options.js';

/**
 * Why the run is waiting, as its nodes report it: the store and the live events are told the wait
 * that lasts longest, and when nothing waits any more.
 */
export class WaitingReport {
  private readonly now = new Map<string, Waiting>();

  constructor(private readonly o: Pick<ExecutionOptions, 'runId' | 'store' | 'onEvent'>) {}

  /** Node `nodeId` waits as `w` says, or no longer waits (`null`). */
  set(nodeId: string, w: Omit<Waiting, 'nodeId'> | null): void {
    const had = this.now.size > 0;
    if (w) this.now.set(nodeId, { ...w, nodeId });
    else if (!this.now.delete(nodeId)) return;
    const current = [...this.now.values()].sort((a, b) => b.until - a.until)[0] ?? null;
    if (!current && !had) return;
    void this.o.store.setWaiting(this.o.runId, current);
    this.o.onEvent?.({ type: 'waiting', runId: this.o.runId, waiting: current });
  }

  /** At the end of the run: clears a wait still shown. */
  async clear(): Promise<void> {
    if (this.now.size) await this.o.store.setWaiting(this.o.runId, null);
  }
}
