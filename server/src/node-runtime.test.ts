import { sha256Hex } from '@sluice/engine/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nodeRuntime } from './node-runtime.js';

describe('the engine runtime on Node', () => {
  it('hashes as the engine’s tests do, so record keys match the ones stored', () => {
    expect(nodeRuntime.hash('{}')).toBe('44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a');
    // the engine's plain SHA-256 (its tests' hash) against Node's crypto, on any text and across blocks
    for (let n = 50; n < 140; n++) expect(nodeRuntime.hash('é'.repeat(n))).toBe(sha256Hex('é'.repeat(n)));
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 300 }), (text) => {
        expect(nodeRuntime.hash(text)).toBe(sha256Hex(text));
      }),
      { numRuns: 300 },
    );
  });

  it('yields to timers that are due, and its time never goes backwards', async () => {
    let fired = false;
    setTimeout(() => {
      fired = true;
    }, 0);
    const before = nodeRuntime.monotonicNow();
    while (!fired && nodeRuntime.monotonicNow() - before < 1_000) await nodeRuntime.yield();
    expect(fired).toBe(true);
    expect(nodeRuntime.monotonicNow()).toBeGreaterThanOrEqual(before);
  });
});
