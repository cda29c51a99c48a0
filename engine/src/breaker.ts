import { type Actor, assign, createActor, setup } from 'xstate';
import { sleepUntil } from './clock.js';
import type { BreakerSnapshot, Clock } from './ports.js';

export interface BreakerSettings {
  failureThreshold: number;
  cooldownMs: number;
}

export const DEFAULT_BREAKER: BreakerSettings = { failureThreshold: 5, cooldownMs: 30_000 };

type BreakerEvent =
  | { type: 'SUCCESS' }
  | { type: 'FAILURE'; at: number }
  | { type: 'TRIP'; at: number }
  | { type: 'PROBE' };

interface BreakerContext extends BreakerSettings {
  failures: number;
  openUntil: number | null;
}

/**
 * The circuit breaker of one connection: closed → open after N consecutive failures → half-open
 * once the cooldown has passed → closed after one successful probe (or open again if it fails).
 * The cooldown's end is data (`openUntil`), not a timer, so a restored breaker needs nothing re-armed.
 */
export const breakerMachine = setup({
  types: { context: {} as BreakerContext, events: {} as BreakerEvent, input: {} as BreakerContext },
  guards: {
    tripped: ({ context }) => context.failures + 1 >= context.failureThreshold,
  },
}).createMachine({
  id: 'breaker',
  initial: 'closed',
  context: ({ input }) => input,
  states: {
    closed: {
      on: {
        SUCCESS: { actions: assign({ failures: 0 }) },
        FAILURE: [
          {
            guard: 'tripped',
            target: 'open',
            actions: assign({
              failures: ({ context }) => context.failures + 1,
              openUntil: ({ context, event }) => event.at + context.cooldownMs,
            }),
          },
          { actions: assign({ failures: ({ context }) => context.failures + 1 }) },
        ],
        TRIP: {
          target: 'open',
          actions: assign({
            failures: ({ context }) => context.failures + 1,
            openUntil: ({ context, event }) => event.at + context.cooldownMs,
          }),
        },
      },
    },
    open: {
      on: { PROBE: 'half-open' },
    },
    'half-open': {
      on: {
        SUCCESS: { target: 'closed', actions: assign({ failures: 0, openUntil: null }) },
        FAILURE: {
          target: 'open',
          actions: assign({
            failures: ({ context }) => context.failures + 1,
            openUntil: ({ context, event }) => event.at + context.cooldownMs,
          }),
        },
        TRIP: {
          target: 'open',
          actions: assign({
            failures: ({ context }) => context.failures + 1,
            openUntil: ({ context, event }) => event.at + context.cooldownMs,
          }),
        },
      },
    },
  },
});

/** One connection's breaker, shared by every run that uses the connection. */
export class Breaker {
  private readonly actor: Actor<typeof breakerMachine>;
  private probing = false;
  private changed: (() => void)[] = [];

  constructor(
    readonly connection: string,
    private readonly clock: Clock,
    settings: BreakerSettings,
    restored?: BreakerSnapshot,
  ) {
    const input = { ...settings, failures: restored?.failures ?? 0, openUntil: restored?.openUntil ?? null };
    const state = restored?.state === 'half-open' ? 'open' : (restored?.state ?? 'closed');
    this.actor = createActor(breakerMachine, {
      input,
      snapshot: breakerMachine.resolveState({ value: state, context: input }),
    });
    this.actor.start();
  }

  get state(): BreakerSnapshot['state'] {
    return this.actor.getSnapshot().value as BreakerSnapshot['state'];
  }

  snapshot(): BreakerSnapshot {
    const { context } = this.actor.getSnapshot();
    return { state: this.state, failures: context.failures, openUntil: context.openUntil };
  }

  /**
   * Waits until a request may be sent: at once when closed; after the cooldown when open (one caller
   * becomes the probe); while a probe is out, until it has answered. `onWait` says until when.
   */
  async acquire(signal: AbortSignal, onWait: (until: number | null) => void): Promise<void> {
    for (;;) {
      const state = this.state;
      if (state === 'closed') return;
      if (state === 'open') {
        const until = this.actor.getSnapshot().context.openUntil ?? this.clock.now();
        if (this.clock.now() < until) {
          onWait(until);
          await sleepUntil(this.clock, until, signal);
          continue;
        }
        this.actor.send({ type: 'PROBE' });
      }
      if (!this.probing) {
        this.probing = true;
        return;
      }
      onWait(null);
      await new Promise<void>((resolve) => {
        this.changed.push(resolve);
        signal.addEventListener('abort', () => resolve(), { once: true });
      });
      if (signal.aborted) return;
    }
  }

  /** Reports the answer of a request sent after `acquire`: `ok` false for a failure of the system itself. */
  report(ok: boolean): void {
    this.settle(ok ? { type: 'SUCCESS' } : { type: 'FAILURE', at: this.clock.now() });
  }

  /**
   * Opens the breaker at once, whatever the count of failures: for an answer that says every
   * request will fail the same way (the system refused the connection's credentials). A request
   * sent after `acquire` reports with this instead of `report`.
   */
  trip(): void {
    this.settle({ type: 'TRIP', at: this.clock.now() });
  }

  private settle(event: BreakerEvent): void {
    const wasProbe = this.state === 'half-open' && this.probing;
    this.actor.send(event);
    if (wasProbe || this.state !== 'half-open') this.probing = false;
    const waiting = this.changed;
    this.changed = [];
    for (const resolve of waiting) resolve();
  }
}

/** The breakers of a process, one per connection, shared across runs. */
export class BreakerRegistry {
  private readonly breakers = new Map<string, Breaker>();

  constructor(private readonly clock: Clock) {}

  get(connection: string, settings: BreakerSettings = DEFAULT_BREAKER, restored?: BreakerSnapshot): Breaker {
    let breaker = this.breakers.get(connection);
    if (!breaker) {
      breaker = new Breaker(connection, this.clock, settings, restored);
      this.breakers.set(connection, breaker);
    }
    return breaker;
  }

  /** Snapshots of the breakers of these connections (for a run's checkpoint). */
  snapshot(connections: Iterable<string>): Record<string, BreakerSnapshot> {
    const out: Record<string, BreakerSnapshot> = {};
    for (const name of connections) {
      const b = this.breakers.get(name);
      if (b) out[name] = b.snapshot();
    }
    return out;
  }
}
