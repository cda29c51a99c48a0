import { sha256Hex } from '@sluice/engine/testing';
import { describe, expect, it } from 'vitest';
import { nodeRuntime } from './node-runtime.js';

describe('the engine runtime on Node', () => {
  it('hashes as the engine’s tests do, so record keys match the ones stored', () => {
    expect(nodeRuntime.hash('{}')).toBe('44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a');
    for (const text of ['', '{"a":1}', 'Überprüfung ✓ 日本'.repeat(20)])
      expect(nodeRuntime.hash(text)).toBe(sha256Hex(text));
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
