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
    for (const listener of this.emitter.listeners('event') as ((event: RunEvent) => void)[]) {
      try {
        listener(event);
      } catch {
        // one display failing does not keep the event from the others
      }
    }
  }

  subscribe(listener: (event: RunEvent) => void): () => void {
    this.emitter.on('event', listener);
    return () => {
      this.emitter.off('event', listener);
    };
  }

  notifyQueued(): void {
    for (const listener of this.emitter.listeners('queued') as (() => void)[]) {
      try {
        listener();
      } catch {
        // as for events
      }
    }
  }

  onQueued(listener: () => void): () => void {
    this.emitter.on('queued', listener);
    return () => {
      this.emitter.off('queued', listener);
    };
  }

  notifyControl(runId: string): void {
    for (const listener of this.emitter.listeners('control') as ((runId: string) => void)[]) {
      try {
        listener(runId);
      } catch {
        // as for events
      }
    }
  }

  onControl(listener: (runId: string) => void): () => void {
    this.emitter.on('control', listener);
    return () => {
      this.emitter.off('control', listener);
    };
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
