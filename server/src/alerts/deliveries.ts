import { HttpFailure } from '@sluice/engine';
import type { Sealer } from '../connections/keyring.js';
import type { Logger } from '../logger.js';
import type { AlertDeliveryRow, AlertRows } from '../storage/port.js';
import { type ChannelContext, type StoredChannel, sendAlert } from './channels.js';
import type { AlertMessage } from './message.js';

export interface DeliveryOptions {
  rows: AlertRows;
  box: Sealer;
  channels: ChannelContext;
  /** This process, as its claims name it. */
  owner: string;
  logger: Logger;
  now?: () => number;
  /** The wait before the second attempt; each later one waits twice as long (default 2 s). */
  retryBaseMs?: number;
  /** The longest wait between attempts (default 10 min). */
  retryMaxMs?: number;
  /** Attempts before a delivery is given up as failed (default 8). */
  maxAttempts?: number;
  /** How often to look for due deliveries (default 1 s). */
  pollMs?: number;
  /** How long a claim holds a delivery (default 2 min): past it, another process may take it. */
  claimMs?: number;
}

/** The wait before attempt `attempt + 1`, after `attempt` failed ones: base × 2^(attempt−1), capped. */
export function backoffMs(attempt: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
}

/**
 * Sends alert deliveries: every `pollMs` (and at once when told of a new one) it claims the pending
 * ones that are due, sends each through its rule's channel, and stores the result: delivered, or the
 * error with the next attempt's time (exponential backoff), or failed after `maxAttempts`. What is
 * pending lives in the database, so deliveries left by a stopped process are sent by the next one.
 */
export class AlertDeliverer {
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private again = false;
  private stopped = true;

  constructor(private readonly o: DeliveryOptions) {}

  private now(): number {
    return (this.o.now ?? Date.now)();
  }

  start(): void {
    this.stopped = false;
    this.wake();
    this.timer = setInterval(() => this.wake(), this.o.pollMs ?? 1000).unref();
  }

  /** Stops polling; resolves once the attempts under way have been stored. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.polling;
  }

  /** Looks for due deliveries now (a poll under way looks again once it ends). */
  wake(): void {
    if (this.stopped) return;
    if (this.polling) {
      this.again = true;
      return;
    }
    this.polling = (async () => {
      try {
        do {
          this.again = false;
          await this.pollOnce();
        } while (this.again && !this.stopped);
      } catch (err) {
        this.o.logger.error({ err }, 'looking for alert deliveries failed; the next poll tries again');
      } finally {
        this.polling = undefined;
      }
    })();
  }

  /** Claims the due deliveries and attempts each; returns how many it attempted. */
  async pollOnce(): Promise<number> {
    const now = this.now();
    const claimed = await this.o.rows.claimDue(this.o.owner, now, now + (this.o.claimMs ?? 120_000), 20);
    await Promise.all(claimed.map((d) => this.attempt(d)));
    return claimed.length;
  }

  private async attempt(d: AlertDeliveryRow): Promise<void> {
    const attempts = d.attempts + 1;
    const log = this.o.logger.child({ deliveryId: d.id, flowId: d.flowId, runId: d.runId, ruleId: d.ruleId });
    let error: string | null = null;
    let giveUp = false;
    try {
      const rule = await this.o.rows.rule(d.ruleId);
      if (!rule) {
        error = 'the rule was removed before the alert could be sent';
        giveUp = true;
      } else {
        const channel = JSON.parse(rule.channel) as StoredChannel;
        const secret = rule.secret ? await this.o.box.open(rule.secret) : null;
        const message = JSON.parse(d.payload) as AlertMessage;
        // a test is tried once: its answer is for the person who asked for it, now
        if (message.test) giveUp = true;
        await sendAlert(this.o.channels, channel, secret, d.id, message);
      }
    } catch (err) {
      error = (err as Error).message || String(err);
      // the outbound guard refuses the channel's address: every attempt would be refused alike
      if (err instanceof HttpFailure && err.code === 'refused') giveUp = true;
    }
    const now = this.now();
    const max = this.o.maxAttempts ?? 8;
    const status = error === null ? 'delivered' : giveUp || attempts >= max ? 'failed' : 'pending';
    const next =
      status === 'pending' ? now + backoffMs(attempts, this.o.retryBaseMs ?? 2000, this.o.retryMaxMs ?? 600_000) : now;
    const stored = await this.o.rows
      .settle(d.id, this.o.owner, {
        status,
        attempts,
        lastError: error,
        nextAttemptAt: next,
        deliveredAt: status === 'delivered' ? now : null,
      })
      .catch((err: unknown) => {
        log.error(
          { err },
          'the result of an alert delivery could not be stored; its claim expires and it is sent again',
        );
        return true;
      });
    if (!stored) log.warn('an alert delivery was taken over by another process while it was sent here');
    if (status === 'delivered') log.info({ attempts }, 'alert delivered');
    else if (status === 'failed') log.warn({ attempts, error }, 'alert delivery failed for good');
    else
      log.warn(
        { attempts, error, nextAttemptAt: new Date(next).toISOString() },
        'alert delivery failed; it is tried again',
      );
    // a retry due soon is picked up by the regular poll
  }
}
