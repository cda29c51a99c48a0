import { describe, expect, it } from 'vitest';
import { InFlight } from './tracker.js';

describe('InFlight', () => {
  it('finds, removes and reports the lowest record in flight, settled in any order', () => {
    const f = new InFlight<string>();
    for (let seq = 0; seq < 5; seq++) f.set(seq, `r${seq}`);
    expect(f.lowest()).toBe(0);
    f.delete(2);
    f.delete(0);
    expect(f.get(2)).toBeUndefined();
    expect(f.get(3)).toBe('r3');
    expect(f.lowest()).toBe(1);
    expect(f.size).toBe(3);
    f.delete(1);
    expect(f.lowest()).toBe(3);
    expect([...f.all()]).toEqual([
      [3, 'r3'],
      [4, 'r4'],
    ]);
    f.delete(4);
    f.delete(3);
    expect(f.size).toBe(0);
    expect(f.lowest()).toBeUndefined();
  });

  it('takes gaps (records a resumed run skips) and goes on after the window moves', () => {
    const f = new InFlight<number>();
    const live = new Set<number>();
    for (let seq = 100; seq < 20_000; seq += seq % 7 === 0 ? 3 : 1) {
      f.set(seq, seq);
      live.add(seq);
      // settle out of order, keeping a few hundred in flight
      if (live.size > 300) {
        const victim = [...live][seq % 2 === 0 ? 0 : 5] as number;
        f.delete(victim);
        live.delete(victim);
      }
    }
    expect(f.size).toBe(live.size);
    expect(f.lowest()).toBe(Math.min(...live));
    expect([...f.all()].map(([seq]) => seq)).toEqual([...live].sort((a, b) => a - b));
    for (const seq of live) expect(f.get(seq)).toBe(seq);
  });

  it('refuses a record read below the window', () => {
    const f = new InFlight<number>();
    for (let seq = 0; seq < 2000; seq++) f.set(seq, seq);
    for (let seq = 0; seq < 1500; seq++) f.delete(seq);
    expect(() => f.set(10, 10)).toThrow(/read after record 1500/);
  });
});
