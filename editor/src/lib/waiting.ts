/**
 * What a run waits for, in words: the run panel's sentence and the line a node shows on the canvas,
 * for every kind of wait the API reports (a delay, a rate limit, an open breaker, a retry, a
 * connection's limit).
 */
import type { Waiting } from '@sluice/shared';
import { formatTimestamp } from './format';

/** A connection's limits, as the API gives them (null: none) or as a wait carries them. */
export interface LimitsLike {
  maxConcurrent?: number | null;
  maxPerSecond?: number | null;
  adaptive?: boolean | null;
}

/** A rate as people read it: 20, 0.5, 2.75. */
export function formatRate(perSecond: number): string {
  return String(Number(perSecond.toFixed(2)));
}

/** "4 at a time, 20 requests/s"; "none" when there are no limits. */
export function describeLimits(l: LimitsLike | null | undefined): string {
  const parts: string[] = [];
  if (l?.maxConcurrent != null) parts.push(`${l.maxConcurrent} at a time`);
  if (l?.maxPerSecond != null) parts.push(`${formatRate(l.maxPerSecond)} requests/s`);
  if (l?.adaptive) parts.push('pace learnt from the system');
  return parts.length ? parts.join(', ') : 'none';
}

/** The limits in the fewest words, for a node's line: "20/s", "2 at once", "2 at once, 20/s". */
function shortLimits(l: LimitsLike | undefined): string {
  const parts: string[] = [];
  if (l?.maxConcurrent != null) parts.push(`${l.maxConcurrent} at once`);
  if (l?.maxPerSecond != null) parts.push(`${formatRate(l.maxPerSecond)}/s`);
  return parts.join(', ');
}

/** An adaptive connection's pace in the fewest words: "38.2/s", "38.2/s, 4 at once", "not held back". */
export function shortPace(p: NonNullable<Waiting['pace']>): string {
  const parts: string[] = [];
  if (p.perSecond !== null) parts.push(`${formatRate(p.perSecond)}/s`);
  if (p.concurrency !== null) parts.push(`${p.concurrency} at once`);
  return parts.length ? parts.join(', ') : 'not held back';
}

/** Why an adaptive pace last changed, in words. */
const PACE_REASONS: Record<string, string> = {
  start: 'not slowed yet',
  throttled: 'slowed by 429/503 answers',
  'retry-after': 'holding for Retry-After',
  'rate-limit-headers': 'following its rate-limit headers',
  latency: 'slowed as its answers got slower',
  recovering: 'speeding up again',
};

/**
 * "Waiting for erp's limit (20/s)", or with adaptive pacing "Learnt pace 38.2/s": a node held by its
 * connection's limits, for the canvas (short: a node is narrow; the run panel says the rest).
 */
export function limitWaitLine(w: Pick<Waiting, 'connection' | 'limits' | 'pace'>): string {
  // the rate alone when there is one: a node is narrow (the run panel gives the concurrency too)
  if (w.pace)
    return `Learnt pace ${w.pace.perSecond !== null ? `${formatRate(w.pace.perSecond)}/s` : shortPace(w.pace)}`;
  const whose = w.connection ? `${w.connection}'s` : 'the connection’s';
  const limits = shortLimits(w.limits);
  return `Waiting for ${whose} limit${limits ? ` (${limits})` : ''}`;
}

/**
 * "Waiting for the breaker of erp-sandbox to close (until 14:02:03)", and the like, for the run
 * panel. A wait on a connection's limit says until when only when its pace set the time (`now`
 * tells whether that time is still ahead); one waiting for other requests to finish has no end to say.
 */
export function describeWaiting(w: Waiting, now: number = Date.now()): string {
  const until = formatTimestamp(w.until);
  if (w.kind === 'breaker')
    return `Waiting: ${w.connection ?? 'the connection'} is failing; its circuit breaker holds requests until ${until}.`;
  if (w.kind === 'rate') return `Waiting for the rate limit of ${w.nodeId} (until ${until}).`;
  if (w.kind === 'retry') return `Waiting to retry at ${w.nodeId} (until ${until}).`;
  if (w.kind === 'limit' && w.pace) {
    const limits = describeLimits({ ...w.limits, adaptive: false });
    const reason = PACE_REASONS[w.pace.reason] ?? w.pace.reason;
    return `Paced at ${w.nodeId} by what ${w.connection ?? 'the connection'} takes, learnt from its answers: ${shortPace(w.pace)} (${reason})${limits === 'none' ? '' : `; never above ${limits}`}.`;
  }
  if (w.kind === 'limit') {
    const limits = describeLimits(w.limits);
    const what = `${w.connection ?? 'the connection'}${limits === 'none' ? '' : ` (${limits}, shared by every run and worker)`}`;
    const ahead = Date.parse(w.until) > now ? `; the next request goes at ${until}` : '';
    const pace = w.pace ? `; pace learnt from its answers: ${shortPace(w.pace)} (${w.pace.reason})` : '';
    return `Waiting at ${w.nodeId} for the limits of ${what}${pace}${ahead}.`;
  }
  return `Waiting between batches at ${w.nodeId} (until ${until}).`;
}
