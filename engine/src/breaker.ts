import { type Actor, assign, createActor, setup } from 'xstate';
import { Cancelled, sleepUntil } from './clock.js';
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
  | { type: 'PROBE' }
  | { type: 'OPEN_UNTIL'; until: number }
  | { type: 'CLOSE' };

/** A change of a breaker's state in this process, as `BreakerRegistry.onChange` reports it. */
export interface BreakerChange {
  connection: string;
  state: BreakerSnapshot['state'];
  /** When an open breaker lets a probe through; null unless open (or half-open after being open). */
  openUntil: number | null;
  /** Consecutive failures counted when it changed. */
  failures: number;
}

/**
 * A breaker's state learned from elsewhere (another process using the same connection): open until
 * a time, so this process holds its requests too, or closed again.
 */
export type LearnedBreakerState = { state: 'open'; openUntil: number } | { state: 'closed' };

interface BreakerContext extends BreakerSettings {
  failures: number;
  openUntil: number | null;
}

/**
 * The circuit breaker of one connection: closed → open after N consecutive failures → half-open
 * once the cooldown has passed → closed after one successful probe (or open again if it fails).
 * The cooldown's end is data (`openUntil`), not a timer, so a restored breaker needs nothing re-armed.
 * In any state, a state learned from another process opens it until a time (`OPEN_UNTIL`, never
 * shortening the cooldown it already has) or closes it (`CLOSE`).
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
  on: {
    OPEN_UNTIL: {
      target: '.open',
      actions: assign({ openUntil: ({ context, event }) => Math.max(context.openUntil ?? 0, event.until) }),
    },
    CLOSE: { target: '.closed', actions: assign({ failures: 0, openUntil: null }) },
  },
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
  /** Callers sleeping out the cooldown: a learned state wakes them to look again. */
  private readonly sleepers = new Set<() => void>();

  constructor(
    readonly connection: string,
    private readonly clock: Clock,
    settings: BreakerSettings,
    restored?: BreakerSnapshot,
    /** Told when the state changes by what this process saw (not by `learn`). */
    private readonly onChange?: (breaker: Breaker) => void,
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
   * Resolves true for the caller that became the probe: if its request is not sent after all, it
   * gives the probe up with `abandon`.
   */
  async acquire(signal: AbortSignal, onWait: (until: number | null) => void): Promise<boolean> {
    for (;;) {
      const state = this.state;
      if (state === 'closed') return false;
      if (state === 'open') {
        const until = this.actor.getSnapshot().context.openUntil ?? this.clock.now();
        if (this.clock.now() < until) {
          onWait(until);
          await this.sleepOpen(until, signal);
          continue;
        }
        this.send({ type: 'PROBE' });
      }
      if (!this.probing) {
        this.probing = true;
        return true;
      }
      onWait(null);
      await new Promise<void>((resolve) => {
        this.changed.push(resolve);
        signal.addEventListener('abort', () => resolve(), { once: true });
      });
      if (signal.aborted) return false;
    }
  }

  /**
   * The probe's request was not sent or its answer never came (its run stopped): the next caller
   * becomes the probe, rather than every run of the process waiting on an answer that will not come.
   */
  abandon(): void {
    if (this.state !== 'half-open' || !this.probing) return;
    this.probing = false;
    this.wake();
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

  /**
   * Takes a state another process found: open until `openUntil` (a time already past changes
   * nothing), so requests here wait for the cooldown too, or closed. A probe out here meanwhile is
   * no longer the probe; its answer still counts as a success or failure in the new state.
   */
  learn(learned: LearnedBreakerState): void {
    if (learned.state === 'open') {
      if (learned.openUntil <= this.clock.now()) return;
      this.actor.send({ type: 'OPEN_UNTIL', until: learned.openUntil });
    } else {
      if (this.state === 'closed') return;
      this.actor.send({ type: 'CLOSE' });
    }
    this.probing = false;
    this.wake();
    for (const wake of [...this.sleepers]) wake();
  }

  private settle(event: BreakerEvent): void {
    const wasProbe = this.state === 'half-open' && this.probing;
    this.send(event);
    if (wasProbe || this.state !== 'half-open') this.probing = false;
    this.wake();
  }

  /** Sends an event of this process's own requests, telling `onChange` when the state moved. */
  private send(event: BreakerEvent): void {
    const before = this.state;
    this.actor.send(event);
    if (this.state !== before) this.onChange?.(this);
  }

  private wake(): void {
    const waiting = this.changed;
    this.changed = [];
    for (const resolve of waiting) resolve();
  }

  /** Sleeps until the cooldown's end, or until a learned state wakes it earlier; throws Cancelled on abort. */
  private async sleepOpen(until: number, signal: AbortSignal): Promise<void> {
    const woken = new AbortController();
    const wake = () => woken.abort();
    this.sleepers.add(wake);
    signal.addEventListener('abort', wake, { once: true });
    try {
      await sleepUntil(this.clock, until, woken.signal);
    } catch (err) {
      if (!(err instanceof Cancelled) || signal.aborted) throw err;
    } finally {
      this.sleepers.delete(wake);
      signal.removeEventListener('abort', wake);
    }
  }
}

/**
 * The breakers of a process, one per connection, shared across runs. With other processes calling
 * the same systems, the server shares their states: it subscribes to the changes seen here
 * (`onChange`) and passes on what the others saw (`apply`), so a system found down by one process is
 * left alone by all of them until its cooldown ends.
 */
export class BreakerRegistry {
  private readonly breakers = new Map<string, Breaker>();
  private readonly listeners = new Set<(change: BreakerChange) => void>();
  /** Learned open states of connections no run here has used yet, taken up by their first `get`. */
  private readonly learned = new Map<string, number>();

  constructor(private readonly clock: Clock) {}

  get(connection: string, settings: BreakerSettings = DEFAULT_BREAKER, restored?: BreakerSnapshot): Breaker {
    let breaker = this.breakers.get(connection);
    if (!breaker) {
      breaker = new Breaker(connection, this.clock, settings, restored, (b) => this.notify(b));
      this.breakers.set(connection, breaker);
      const openUntil = this.learned.get(connection);
      if (openUntil !== undefined) {
        this.learned.delete(connection);
        breaker.learn({ state: 'open', openUntil });
      }
    }
    return breaker;
  }

  /**
   * Calls `listener` whenever a breaker of this process changes state through its own requests
   * (closed → open, open → half-open, half-open → closed or open again). States given to `apply` are
   * not reported back, so processes passing states to each other do not echo them. A listener is
   * called in the middle of a request's handling: it must return at once, and what it throws is
   * ignored. Returns the way to unsubscribe.
   */
  onChange(listener: (change: BreakerChange) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /**
   * Applies a state another process saw: `open` opens this process's breaker of the connection until
   * `openUntil` (kept for its first use if no run here has used it yet; a time already past changes
   * nothing), `closed` closes it and lets the requests waiting for it go.
   */
  apply(connection: string, learned: LearnedBreakerState): void {
    const breaker = this.breakers.get(connection);
    if (breaker) breaker.learn(learned);
    else if (learned.state === 'open' && learned.openUntil > this.clock.now())
      this.learned.set(connection, Math.max(this.learned.get(connection) ?? 0, learned.openUntil));
    else this.learned.delete(connection);
  }

  private notify(breaker: Breaker): void {
    const { state, failures, openUntil } = breaker.snapshot();
    for (const listener of [...this.listeners]) {
      try {
        listener({ connection: breaker.connection, state, openUntil, failures });
      } catch {
        // the breaker's request goes on whatever a listener does
      }
    }
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
