import { describe, expect, it } from 'vitest';
import { measurePacing } from '../bench/pacing.js';
import { logLines } from '../support/server.js';

/**
 * Adaptive pacing end to end: the server in a process of its own writes 1,800 work orders through a
 * connection that learns its pace, to the sandbox ERP with a hidden limit of 40 a second (429 above
 * it, nothing that tells the limit). The run converges to 36-40 writes a second well within 60 s,
 * gets fewer than 2% 429s from then on, and no record fails.
 */
describe('adaptive pacing against a hidden limit of 40 requests a second', () => {
  it('converges to 36-40 writes a second within 60 s, then fewer than 2% 429s, and no record fails', async () => {
    const f = await measurePacing(1_800);
    console.log(
      `pacing test: converged after ${f.convergeS} s at ${f.rate.toFixed(1)} writes/s; ${f.throttled} 429s of ${f.requests} requests, ${(f.share429 * 100).toFixed(2)}% after convergence; paces seen ${[...new Set(f.pacesSeen)].slice(0, 8).join(', ')}`,
    );
    expect(f.run.status).toBe('succeeded');
    expect(f.run.counts).toMatchObject({ succeeded: 1_800, failed: 0 });
    expect(f.convergeS).toBeGreaterThanOrEqual(0);
    expect(f.convergeS).toBeLessThanOrEqual(60);
    expect(f.rate).toBeGreaterThanOrEqual(36);
    expect(f.rate).toBeLessThanOrEqual(40);
    expect(f.share429).toBeLessThan(0.02);
    // the pace is shown while the node waits on it, and the server logs each change
    expect(f.pacesSeen.some((p) => p >= 30 && p <= 40)).toBe(true);
    const paceLines = logLines(f.serverOutput).filter((l) => l.connection === 'erp-adaptive' && 'perSecond' in l);
    expect(paceLines.some((l) => l.reason === 'throttled')).toBe(true);
  }, 180_000);
});
