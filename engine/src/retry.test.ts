import { describe, expect, it } from 'vitest';
import { backoffMs, isRetryableStatus, retryAfterMs } from './retry.js';

describe('retry policy', () => {
  const policy = { maxAttempts: 100, initialDelayMs: 500, maxDelayMs: 30_000 };

  it('doubles from the initial delay, caps one wait, and jitters between half and all of the step', () => {
    expect([1, 2, 3, 4].map((a) => backoffMs(policy, a, () => 1))).toEqual([500, 1000, 2000, 4000]);
    expect([1, 2, 3, 4].map((a) => backoffMs(policy, a, () => 0))).toEqual([250, 500, 1000, 2000]);
    expect(backoffMs(policy, 40, () => 1)).toBe(30_000);
    expect(backoffMs(policy, 40, () => 0)).toBe(15_000);
  });

  it('reads Retry-After as seconds or as an HTTP date, and ignores what is neither', () => {
    const now = Date.parse('Sat, 28 Nov 2026 12:00:00 GMT');
    expect(retryAfterMs('7', now)).toBe(7000);
    expect(retryAfterMs('0.5', now)).toBe(500);
    expect(retryAfterMs('Sat, 28 Nov 2026 12:00:30 GMT', now)).toBe(30_000);
    expect(retryAfterMs('Sat, 28 Nov 2026 11:59:00 GMT', now)).toBe(0);
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs(undefined, now)).toBeUndefined();
  });

  it('retries timeouts, rate limits and server errors, not other client errors', () => {
    expect([408, 429, 500, 502, 503, 504].every(isRetryableStatus)).toBe(true);
    expect([400, 401, 403, 404, 409, 422].some(isRetryableStatus)).toBe(false);
  });
});
