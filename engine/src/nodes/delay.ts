import type { NodeParams } from '@sluice/shared';
import { sleepUntil } from '../clock.js';
import type { FlowControlContext, Item, NodeFactory } from '../runtime.js';

type Params = NodeParams<'delay'>;

interface State {
  lastFinishedAt?: number;
  /** Rate mode: releases still inside the window, as [time, count] pairs, oldest first. */
  window?: [number, number][];
}

/**
 * Fixed mode: the gap from the moment everything downstream finished with one group of records (a
 * batch, after a batch node) to the moment the next group is let through is never shorter than `ms`.
 *
 * Rate mode: a sliding window. Before letting records through at time t, the releases in
 * (t - intervalMs, t] are counted; at most `records - counted` go now, the rest wait until the
 * oldest release leaves the window. So any window of length `intervalMs` holds at most `records`.
 *
 * Both keep their deadlines as data (the state below), so a resumed run waits only what remains.
 */
export const delay: NodeFactory<'delay', FlowControlContext> = (ctx, params, restored) => {
  const state: State = { ...((restored as State | undefined) ?? {}) };
  return {
    state: () => state,
    process: (items) => (params.mode === 'rate' ? rate(ctx, params, state, items) : fixed(ctx, params, state, items)),
  };
};

async function fixed(ctx: FlowControlContext, params: Params, state: State, items: Item[]): Promise<void> {
  if (state.lastFinishedAt !== undefined) {
    const since = Math.max(state.lastFinishedAt, ctx.lastBatchEnd() ?? state.lastFinishedAt);
    await wait(ctx, 'delay', since + params.ms);
  }
  const batchNo = items[0]?.batchNo;
  if (batchNo) ctx.batchReleased(batchNo);
  await ctx.emit('out', items);
  state.lastFinishedAt = ctx.clock.now();
}

async function rate(ctx: FlowControlContext, params: Params, state: State, items: Item[]): Promise<void> {
  if (!state.window) state.window = [];
  const window = state.window;
  let rest = items;
  let released = false;
  while (rest.length) {
    const now = ctx.clock.now();
    while (window.length && (window[0] as [number, number])[0] <= now - params.intervalMs) window.shift();
    const used = window.reduce((sum, [, n]) => sum + n, 0);
    const room = params.records - used;
    if (room <= 0) {
      await wait(ctx, 'rate', (window[0] as [number, number])[0] + params.intervalMs);
      continue;
    }
    const now2 = ctx.clock.now();
    const go = rest.slice(0, room);
    rest = rest.slice(room);
    window.push([now2, go.length]);
    const batchNo = go[0]?.batchNo;
    if (batchNo && !released) ctx.batchReleased(batchNo);
    released = true;
    await ctx.emit('out', go);
  }
}

async function wait(ctx: FlowControlContext, kind: 'delay' | 'rate', until: number): Promise<void> {
  if (until <= ctx.clock.now()) return;
  if (until - ctx.clock.now() >= 1000) ctx.waiting({ kind, until });
  try {
    await sleepUntil(ctx.clock, until, ctx.signal);
  } finally {
    ctx.waiting(null);
  }
}
