import type { RunEvent } from '@sluice/engine';
import { isFinalRunStatus } from '@sluice/shared';
import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { AppDeps } from './deps.js';
import type { ApiRouter } from './spec.js';

/** At most this many messages a second per subscriber. */
const PER_SECOND = 10;
const HEARTBEAT_MS = 15_000;

/**
 * Server-sent events. Events are gathered and sent together at most 10 times a second; within one
 * send, only the latest status, progress and wait of each run are kept, while batch starts and ends
 * are all kept (up to the last 50).
 */
export function registerEventRoutes(api: ApiRouter, deps: AppDeps): void {
  api.add('events', (c) => stream(c, deps, undefined));
  api.add('runEvents', async (c, { params }) => {
    await deps.runs.get(params.id);
    return stream(c, deps, params.id);
  });
}

function stream(c: Context, deps: AppDeps, runId: string | undefined): Response {
  return streamSSE(c, async (sse) => {
    let pending: RunEvent[] = [];
    let closed = false;
    let finished = false;
    const onEvent = (event: RunEvent) => {
      if (runId !== undefined && event.runId !== runId) return;
      pending.push(event);
      if (runId !== undefined && event.type === 'status' && isFinalRunStatus(event.status)) finished = true;
    };
    const unsubscribe = deps.events.subscribe(onEvent);
    sse.onAbort(() => {
      closed = true;
    });
    try {
      if (runId !== undefined) {
        const run = await deps.runs.get(runId);
        await sse.writeSSE({ event: 'snapshot', data: JSON.stringify(run) });
        if (isFinalRunStatus(run.status)) return;
      }
      let lastBeat = Date.now();
      while (!closed) {
        await sse.sleep(1000 / PER_SECOND);
        if (pending.length) {
          const events = coalesce(pending);
          pending = [];
          await sse.writeSSE({ event: 'update', data: JSON.stringify({ events }) });
          lastBeat = Date.now();
          if (finished) return;
        } else if (Date.now() - lastBeat > HEARTBEAT_MS) {
          await sse.write(': keep-alive\n\n');
          lastBeat = Date.now();
        }
      }
    } finally {
      unsubscribe();
    }
  });
}

/** Keeps the latest status / progress / wait per run, and the last 50 batch events, in order. */
export function coalesce(events: RunEvent[]): RunEvent[] {
  const latest = new Map<string, number>();
  events.forEach((e, i) => {
    if (e.type !== 'batch-started') latest.set(`${e.runId}:${e.type === 'batch' ? 'progress' : e.type}`, i);
  });
  const batches = events
    .map((e, i) => ({ e, i }))
    .filter(({ e }) => e.type === 'batch-started' || e.type === 'batch')
    .slice(-50)
    .map(({ i }) => i);
  const keep = new Set([...latest.values(), ...batches]);
  return events.filter((_, i) => keep.has(i));
}
