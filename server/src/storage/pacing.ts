/**
 * The pacing rules every store's connection limits keep (`LocalLimits` in one process, `PgLimits`
 * across processes): how far apart permits start, and what a permit that comes to its slot late does.
 * No I/O here.
 */

/**
 * The share of `maxPerSecond` a connection is paced at. A request reaches its target some time after
 * its permit (the sender's event loop busy with a batch, the network, the target's own queue); paced
 * at exactly the maximum, two such delays would put one more request into a second than the target
 * allows, which a target that counts arrivals answers with 429. At 90% a target sees at most the
 * maximum in any second (one more at a window's edge) while requests arrive up to a tenth of a
 * second late.
 */
export const PACE_SHARE = 0.9;

/** Milliseconds between the starts of two permits of a connection limited to `maxPerSecond`, paced at `share` of it. */
export function paceIntervalMs(maxPerSecond: number, share = PACE_SHARE): number {
  return 1000 / (maxPerSecond * share);
}

/**
 * How late after its slot a permit may still start. Within half the pace's interval, the requests
 * started stay at most one more than the pace in any second; later, they would bunch with the ones
 * after them. Never under 10 ms, which a timer can be late by on a busy machine (at high rates,
 * where half an interval is less, that lets a few more start in a second, a small share of many).
 */
export function lateAllowedMs(interval: number): number {
  return Math.max(interval / 2, 10);
}

/** How many slots a caller lets go for coming late before it starts anyway (a process too busy to keep any). */
export const MAX_MISSED_SLOTS = 3;
