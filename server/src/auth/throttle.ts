/**
 * Slows password guessing: failed sign-ins are counted per key (an account's e-mail, an address);
 * after `maxFailures` within the window a key is locked for a while, doubling with every further
 * failure up to `maxLockMs`. A success clears the account's count. Kept in memory: a restart forgets
 * it, which costs an attacker a restart they cannot cause.
 */
export interface ThrottleOptions {
  /** Failures allowed before the key is locked. */
  maxFailures: number;
  /** Failures older than this (since the last one) are forgotten. */
  windowMs: number;
  /** The first lock; each further failure doubles it. */
  lockMs: number;
  maxLockMs: number;
  now?: () => number;
}

interface Entry {
  failures: number;
  last: number;
  lockedUntil: number;
}

/** At most this many keys are kept; the oldest are dropped first (an address sweep cannot fill memory). */
const MAX_KEYS = 100_000;

export class LoginThrottle {
  private readonly entries = new Map<string, Entry>();
  private readonly now: () => number;

  constructor(private readonly options: ThrottleOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Milliseconds until the key may try again; 0 when it may now. */
  waitMs(key: string): number {
    const entry = this.current(key);
    return entry ? Math.max(0, entry.lockedUntil - this.now()) : 0;
  }

  fail(key: string): void {
    const at = this.now();
    const entry = this.current(key) ?? { failures: 0, last: at, lockedUntil: 0 };
    entry.failures += 1;
    entry.last = at;
    const over = entry.failures - this.options.maxFailures;
    if (over >= 0) {
      entry.lockedUntil = at + Math.min(this.options.maxLockMs, this.options.lockMs * 2 ** Math.min(over, 30));
    }
    this.entries.delete(key);
    this.entries.set(key, entry);
    if (this.entries.size > MAX_KEYS) this.entries.delete(this.entries.keys().next().value as string);
  }

  clear(key: string): void {
    this.entries.delete(key);
  }

  private current(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry && this.now() - entry.last > this.options.windowMs && this.now() >= entry.lockedUntil) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }
}
