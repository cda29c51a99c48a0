import type { RunEvent } from '@sluice/engine';
import { describe, expect, it } from 'vitest';
import { LocalEventBus } from './local-shared.js';

describe('LocalEventBus', () => {
  it("gives each subscriber every event once, at once, and stops at unsubscribe; one subscriber's failure spares the others", () => {
    const bus = new LocalEventBus();
    const got: string[] = [];
    bus.subscribe(() => {
      throw new Error('a broken display');
    });
    const off = bus.subscribe((e) => got.push(e.runId));
    const event = { type: 'waiting', runId: '1', waiting: null } as RunEvent;
    bus.publish(event);
    off();
    bus.publish(event);
    expect(got).toEqual(['1']);
  });

  it('wakes the queued-run listeners', () => {
    const bus = new LocalEventBus();
    let woken = 0;
    const off = bus.onQueued(() => woken++);
    bus.notifyQueued();
    off();
    bus.notifyQueued();
    expect(woken).toBe(1);
  });
});
