import { EventEmitter } from 'node:events';
import type { BreakerRegistry, RunEvent } from '@sluice/engine';
import type { BreakerSync, EventBus } from './port.js';

/**
 * What one process shares with itself: the in-process equivalents of `Storage.events` and
 * `breakers`, for a storage that serves a single process (SQLite) or when a storage offers none.
 * Nothing here touches a database. The in-process equivalent of `Storage.limits` is `LocalLimits`
 * (`connections/limits.ts`; not re-exported here, as storage does not depend on the domain's folders).
 */

/** Run events and queued-run news within this process. */
export class LocalEventBus implements EventBus {
  private readonly emitter = new EventEmitter();

  constructor() {
    // every live display of a run subscribes: there is no leak to warn about
    this.emitter.setMaxListeners(0);
  }

  publish(event: RunEvent): void {
    this.tell('event', event);
  }

  subscribe(listener: (event: RunEvent) => void): () => void {
    return this.listen('event', listener);
  }

  notifyQueued(): void {
    this.tell('queued');
  }

  onQueued(listener: () => void): () => void {
    return this.listen('queued', listener);
  }

  notifyControl(runId: string): void {
    this.tell('control', runId);
  }

  onControl(listener: (runId: string) => void): () => void {
    return this.listen('control', listener);
  }

  private listen<A extends unknown[]>(name: string, listener: (...args: A) => void): () => void {
    const call = listener as (...args: unknown[]) => void;
    this.emitter.on(name, call);
    return () => {
      this.emitter.off(name, call);
    };
  }

  /** Calls every listener of `name`: one failing does not keep the news from the others. */
  private tell(name: string, ...args: unknown[]): void {
    for (const listener of this.emitter.listeners(name) as ((...a: unknown[]) => void)[]) {
      try {
        listener(...args);
      } catch {
        // the listener's own failure, not the news's
      }
    }
  }

  async close(): Promise<void> {
    this.emitter.removeAllListeners();
  }
}

/** Breaker sharing for one process: nothing to do, its registry is already shared by all its runs. */
export class LocalBreakerSync implements BreakerSync {
  async attach(_registry: BreakerRegistry): Promise<() => void> {
    return () => {};
  }

  async close(): Promise<void> {}
}
