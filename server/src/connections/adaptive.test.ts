import type { LimitSettings } from '@sluice/engine';
import { SimulatedClock } from '@sluice/engine/testing';
import { describe, expect, it } from 'vitest';
import { AdaptiveLimits } from './adaptive.js';
import { LocalLimits } from './limits.js';
import { convergedAt, limitsClock } from './testing.js';

const later = (clock: SimulatedClock, ms: number) => new Promise<void>((resolve) => clock.setTimeout(resolve, ms));

/** A system that takes at most `perSecond` requests in any second and answers 429 (no headers) above it. */
function hiddenLimit(perSecond: number) {
  const admitted: number[] = [];
  return {
    admitted,
    answer(now: number): number {
      while (admitted.length && (admitted[0] as number) <= now - 1000) admitted.shift();
      if (admitted.length >= perSecond) return 429;
      admitted.push(now);
      return 200;
    },
  };
}

/**
 * `senders` callers sending requests one after another through the limits for `seconds` of simulated
 * time to a system with a hidden limit of 40 a second answering after `latency` ms; each second's 2xx
 * and 429 answers counted.
 */
async function drive(limits: LimitSettings, o: { seconds: number; senders: number; latency: number; limit: number }) {
  const clock = new SimulatedClock(0);
  const keeper = new AdaptiveLimits(new LocalLimits(limitsClock(clock)), limitsClock(clock));
  const system = hiddenLimit(o.limit);
  const ok: number[] = Array.from({ length: o.seconds }, () => 0);
  const throttled: number[] = Array.from({ length: o.seconds }, () => 0);
  const paces: (number | null)[] = [];
  const sender = async () => {
    while (clock.now() < o.seconds * 1000) {
      const permit = await keeper.acquire('erp', limits);
      const sent = clock.now();
      if (sent >= o.seconds * 1000) {
        permit.release();
        return;
      }
      const status = system.answer(sent);
      await later(clock, o.latency);
      const second = Math.floor(sent / 1000);
      if (status === 429) throttled[second] = (throttled[second] ?? 0) + 1;
      else ok[second] = (ok[second] ?? 0) + 1;
      permit.release({ status, headers: {}, ms: o.latency });
      paces.push(keeper.current('erp')?.perSecond ?? null);
    }
  };
  await clock.run(Promise.all(Array.from({ length: o.senders }, sender)));
  return { ok, throttled, paces, keeper };
}

describe('AdaptiveLimits', () => {
  it('learns a hidden limit of 40 a second: within 36-40 in well under 60 s, then fewer than 2% of answers 429', async () => {
    const { ok, throttled, paces } = await drive(
      { maxPerSecond: 100, maxConcurrent: 8, adaptive: true },
      { seconds: 120, senders: 8, latency: 20, limit: 40 },
    );
    const at = convergedAt(ok, throttled, 36, 40);
    expect(at).toBeGreaterThanOrEqual(0);
    if (process.env.DEBUG_PACE) console.log(JSON.stringify({ at, ok, throttled }));
    expect(at as number).toBeLessThanOrEqual(60);
    const after = (a: number[]) => a.slice(at).reduce((x, y) => x + y, 0);
    expect(after(throttled) / (after(ok) + after(throttled))).toBeLessThan(0.02);
    // never above the maxima
    for (const p of paces) if (p !== null) expect(p).toBeLessThanOrEqual(100);
  });

  it('never sends faster than maxPerSecond, even when the system takes more', async () => {
    const { ok } = await drive(
      { maxPerSecond: 20, adaptive: true },
      { seconds: 20, senders: 8, latency: 5, limit: 1000 },
    );
    // paced at 90% of the maximum (the limits' share), and never over it
    for (const n of ok.slice(1)) expect(n).toBeLessThanOrEqual(20);
    expect(ok.slice(2).every((n) => n >= 17)).toBe(true);
  });

  it('holds every request until Retry-After has passed', async () => {
    const clock = new SimulatedClock(0);
    const keeper = new AdaptiveLimits(new LocalLimits(limitsClock(clock)), limitsClock(clock));
    const limits = { adaptive: true };
    const first = await keeper.acquire('erp', limits);
    first.release({ status: 429, headers: { 'Retry-After': '3' }, ms: 10 });
    expect(keeper.current('erp')?.reason).toBe('retry-after');
    const permit = await clock.run(keeper.acquire('erp', limits));
    expect(clock.now()).toBeGreaterThanOrEqual(3000);
    permit.release({ status: 200, ms: 10 });
  });

  it('holds until the reset when RateLimit-Remaining says none is left, and paces by what is left otherwise', async () => {
    const clock = new SimulatedClock(0);
    const keeper = new AdaptiveLimits(new LocalLimits(limitsClock(clock)), limitsClock(clock));
    const limits = { adaptive: true };
    const a = await keeper.acquire('erp', limits);
    a.release({ status: 200, headers: { 'X-RateLimit-Remaining': '0', 'X-RateLimit-Reset': '2' }, ms: 5 });
    await clock.run(keeper.acquire('erp', limits)).then((p) => p.release({ status: 200, ms: 5 }));
    expect(clock.now()).toBeGreaterThanOrEqual(2000);
    // 10 left over the next 5 seconds: two a second
    const b = await clock.run(keeper.acquire('erp', limits));
    b.release({ status: 200, headers: { 'RateLimit-Remaining': '10', 'RateLimit-Reset': '5' }, ms: 5 });
    const start = clock.now();
    for (let i = 0; i < 4; i++) (await clock.run(keeper.acquire('erp', limits))).release({ status: 200, ms: 5 });
    expect(clock.now() - start).toBeGreaterThanOrEqual(1500);
  });

  it('slows down when answers take far longer than they did', async () => {
    const clock = new SimulatedClock(0);
    const keeper = new AdaptiveLimits(new LocalLimits(limitsClock(clock)), limitsClock(clock));
    const limits = { maxPerSecond: 50, adaptive: true };
    let ms = 20;
    const send = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const p = await keeper.acquire('erp', limits);
        await later(clock, ms);
        p.release({ status: 200, ms });
      }
    };
    await clock.run(send(50));
    expect(keeper.current('erp')?.perSecond ?? null).toBeNull();
    ms = 800;
    await clock.run(send(20));
    const pace = keeper.current('erp');
    expect(pace?.reason).toBe('latency');
    expect(pace?.perSecond).toBeLessThan(50);
  });

  it('leaves connections without adaptive pacing to the limits behind it', async () => {
    const clock = new SimulatedClock(0);
    const keeper = new AdaptiveLimits(new LocalLimits(limitsClock(clock)), limitsClock(clock));
    const p = await keeper.acquire('erp', { maxPerSecond: 10 });
    expect(p.pace).toBeUndefined();
    p.release({ status: 429, ms: 1 });
    expect(keeper.current('erp')).toBeUndefined();
  });
});
