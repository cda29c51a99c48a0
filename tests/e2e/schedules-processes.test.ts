import { type FlowDetail, isFinalRunStatus, type Page, type RunSummary } from '@sluice/shared';
import { describe, expect, it } from 'vitest';
import { openPostgres } from '../../server/src/storage/postgres/db.js';
import { pgDeployment } from '../support/deployment.js';
import { api, eventually, logLines, type RunningServer } from '../support/server.js';

/**
 * A schedule firing every second with three `sluice serve` processes on one PostgreSQL database,
 * each ticking the scheduler every second, for 30 s: every slot from the moment the schedule was
 * armed to the last one before it was turned off makes exactly one run. On the way:
 *
 * - a third of the way through, the process that fired most so far (the one whose ticks come first
 *   after each second fires nearly every slot) is stopped, as in a rolling restart, and a new one
 *   started in its place: the others take the slots over;
 * - two thirds of the way, all three are stopped and three new ones started together: the slots of
 *   the outage are caught up once they tick (started together, they may race for the same slots).
 *
 * The policy asserted is the schedule's own: catch-up `all` (with a limit above the slots in the
 * test) fires every slot after the last fired one, however late a tick comes or however long no
 * process ran, so no slot may be missing; overlap `queue` starts a run for a slot even while the run
 * before it goes on, so every slot has its run. (With catch-up `latest`, the default, the outage
 * would leave a gap of all its slots but the last.)
 */

const WINDOW_MS = 30_000;
const PROCESSES = 3;
const SECOND = 1000;

const deployment = pgDeployment();

const everySecond = {
  format: 2,
  name: 'Every second',
  nodes: [
    {
      id: 'tick',
      type: 'schedule',
      params: { cron: '* * * * * *', timezone: 'UTC', overlap: 'queue', catchUp: 'all', catchUpLimit: 100 },
    },
    { id: 'gen', type: 'generate', params: { count: 3 } },
    { id: 'out', type: 'collect' },
  ],
  edges: [
    { source: 'tick', target: 'gen' },
    { source: 'gen', target: 'out' },
  ],
};

/** Every run of the flow, through the API, page by page. */
async function runsOf(apiUrl: string, flowId: string): Promise<RunSummary[]> {
  const runs: RunSummary[] = [];
  let cursor: string | null = null;
  do {
    const query = new URLSearchParams({ flowId, limit: '500', ...(cursor ? { cursor } : {}) });
    const page: Page<RunSummary> = await api<Page<RunSummary>>(`${apiUrl}/api/runs?${query}`);
    runs.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return runs;
}

/** When the schedule was armed (its slots count from then), as the database holds it. */
async function armedAt(url: string, flowId: string): Promise<number | undefined> {
  const db = await openPostgres(url);
  try {
    const r = await db.$client.query('SELECT updated_at FROM schedule_state WHERE flow_id = $1', [flowId]);
    return r.rows[0] ? Number(r.rows[0].updated_at) : undefined;
  } finally {
    await db.$client.end();
  }
}

/** What each process logged it fired: slot (ISO) and run. */
const firedBy = (p: RunningServer) =>
  logLines(p.output())
    .filter((l) => l.msg === 'schedule fired a run')
    .map((l) => ({ slot: l.slot as string, runId: l.runId as string }));

describe(`a schedule every second with ${PROCESSES} sluice serve processes on one PostgreSQL database`, () => {
  it(`fires every slot of ${WINDOW_MS / SECOND} s exactly once`, async () => {
    const sandbox = await deployment.sandbox(10);
    const env = deployment.env(sandbox.url);
    const serve = () => deployment.serve(env);
    const serveMany = (n: number) => Promise.all(Array.from({ length: n }, serve));
    const wait = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));
    const stopped = async (p: RunningServer) => {
      await p.stop();
      expect(p.exitCode()).toBe(0);
    };
    // the first applies the migrations and seeds the demo flow; the others find them done
    let live = [await serve()];
    live.push(...(await serveMany(PROCESSES - 1)));
    const servers = [...live];
    const apiUrl = () => (live[0] as RunningServer).url;

    const json = { 'content-type': 'application/json' };
    const flow = await api<FlowDetail>(`${apiUrl()}/api/flows`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify(everySecond),
    });
    expect(flow.problems).toEqual([]);
    const publishedAt = Date.now();
    await api(`${apiUrl()}/api/flows/${flow.id}/publish`, { method: 'POST', headers: json, body: '{}' });
    // armed by the first tick of any process after the publish
    const armed = await eventually(() => armedAt(deployment.url, flow.id), 10_000, 100);

    // a third of the way: the process that fired most so far stops, a new one starts in its place
    await wait(publishedAt + WINDOW_MS / 3 - Date.now());
    const firing = live.reduce((a, b) => (firedBy(b).length > firedBy(a).length ? b : a));
    expect(firedBy(firing).length).toBeGreaterThan(0);
    await stopped(firing);
    live = live.filter((p) => p !== firing);
    const replacement = await serve();
    live.push(replacement);
    servers.push(replacement);

    // two thirds of the way: all of them stop; three new ones start together and catch up
    await wait(publishedAt + (2 * WINDOW_MS) / 3 - Date.now());
    await Promise.all(live.map(stopped));
    const outageFrom = Date.now();
    live = await serveMany(PROCESSES);
    const outageTo = Date.now();
    servers.push(...live);

    // the rest of the window, and at least five slots with the new three
    await wait(Math.max(publishedAt + WINDOW_MS, outageTo + 5 * SECOND) - Date.now());
    await api(`${apiUrl()}/api/flows/${flow.id}/enabled`, {
      method: 'PUT',
      headers: json,
      body: JSON.stringify({ enabled: false }),
    });
    const disabledAt = Date.now();
    // a tick that had read the flow as enabled before may still be firing
    await wait(3 * SECOND);

    const runs = await runsOf(apiUrl(), flow.id);
    const schedule = await api<{ schedules: { lastSlot: string | null }[] }>(
      `${apiUrl()}/api/flows/${flow.id}/schedule`,
    );
    const lastSlot = Date.parse(schedule.schedules[0]?.lastSlot ?? 'none');

    // one run per slot: every run is a scheduled one with its slot, no slot twice
    for (const r of runs) expect(r.trigger).toBe('schedule');
    const slots = runs.map((r) => Date.parse(r.scheduledFor ?? 'none')).sort((a, b) => a - b);
    for (const s of slots) expect(Number.isFinite(s) && s % SECOND === 0, `slot ${s}`).toBe(true);
    expect(new Set(slots).size, 'slots with more than one run').toBe(slots.length);

    // catch-up `all`: every whole second from the arming on, up to the last slot fired, and no other.
    // The last slot stored is the last fired but when two ticks in flight at the end fired different
    // last slots and the one with the earlier moved it (the other's move is refused, and no tick came
    // after the flow was turned off to move it on): then the last fired is the latest run's slot.
    const last = Math.max(lastSlot, ...slots);
    expect(last - lastSlot).toBeLessThanOrEqual(2 * SECOND);
    const expected: number[] = [];
    for (let s = Math.ceil(armed / SECOND) * SECOND; s <= last; s += SECOND) expected.push(s);
    const iso = (ms: number[]) => ms.map((s) => new Date(s).toISOString());
    expect(iso(slots)).toEqual(iso(expected));
    // and it kept firing: from within moments of the publish to within moments of turning it off
    expect(armed - publishedAt).toBeLessThan(5 * SECOND);
    expect(disabledAt - last).toBeLessThan(5 * SECOND);
    expect(slots.length).toBeGreaterThanOrEqual(WINDOW_MS / SECOND - 5);
    // the outage's slots are among them (caught up once the new processes ticked)
    const outage = slots.filter((s) => s > outageFrom && s < outageTo);
    expect(outage.length).toBeGreaterThanOrEqual(Math.floor((outageTo - outageFrom) / SECOND) - 1);

    // what the processes logged: each run fired by one process, and every run logged; the slots after
    // the stop fired by the others
    const fired = servers.flatMap(firedBy);
    expect(fired.map((f) => f.runId).sort()).toEqual(runs.map((r) => r.id).sort());
    expect(servers.filter((p) => firedBy(p).length > 0).length).toBeGreaterThanOrEqual(2);
    const late = runs.map((r) => Date.parse(r.createdAt) - Date.parse(r.scheduledFor ?? ''));
    console.log(
      `schedules test: ${slots.length} slots, ${iso([slots[0] as number])[0]} to ${iso([last])[0]}; ` +
        `runs fired per process: ${servers.map((p) => firedBy(p).length).join(', ')}; ` +
        `outage ${((outageTo - outageFrom) / SECOND).toFixed(1)} s (${outage.length} slots caught up); ` +
        `queued after its slot by at most ${Math.max(...late)} ms`,
    );

    // the runs are small: they all finish, and succeed
    const finished = await eventually(
      async () => {
        const all = await runsOf(apiUrl(), flow.id);
        return all.every((r) => isFinalRunStatus(r.status)) ? all : undefined;
      },
      30_000,
      250,
    );
    expect(finished).toHaveLength(runs.length);
    for (const r of finished) {
      expect(r.status).toBe('succeeded');
      expect(r.counts).toMatchObject({ read: 3, succeeded: 3 });
    }

    for (const p of [...live, sandbox]) {
      await p.stop();
      expect(p.exitCode()).toBe(0);
    }
  }, 120_000);
});
