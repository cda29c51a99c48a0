import type Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openTestSluice, TEST_TOKEN, type TestSluice } from '../http/test-support.js';
import type { Runner } from '../runs/runner.js';
import { openSluice, type SluiceParts } from '../sluice.js';
import type { Db } from '../storage/sqlite/open.js';
import type { CatchUp } from './cron.js';
import { type Firing, Scheduler } from './scheduler.js';

type Overlap = 'skip' | 'queue' | 'cancel-previous';

interface ScheduleParams {
  cron: string;
  timezone: string;
  overlap: Overlap;
  catchUp: CatchUp;
  catchUpLimit: number;
}

interface RunView {
  id: string;
  trigger: string;
  scheduledFor: string | null;
  status: string;
}

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();
const HOURLY: ScheduleParams = {
  cron: '0 * * * *',
  timezone: 'UTC',
  overlap: 'queue',
  catchUp: 'latest',
  catchUpLimit: 10,
};
const SOURCE = { id: 'src', type: 'inline-records', params: { records: [{ key: 'a' }], keyField: 'key' } };

let t: TestSluice;
let parts: SluiceParts;
let scheduler: Scheduler;
const extraClients: Database.Database[] = [];

beforeEach(async () => {
  t = await openTestSluice({ start: false });
  parts = t.parts;
  // Not started, but `enqueue` still pumps the queue on a microtask; stopping it keeps every run `queued`.
  await parts.runner.stop();
  scheduler = parts.scheduler;
});

afterEach(async () => {
  for (const client of extraClients.splice(0)) client.close();
  await t.close();
});

function scheduledDoc(name: string, schedule: Partial<ScheduleParams> = {}, records = [{ key: 'a' }]) {
  return {
    format: 1,
    name,
    nodes: [
      { id: 'when', type: 'schedule', params: { ...HOURLY, ...schedule } },
      { ...SOURCE, params: { ...SOURCE.params, records } },
    ],
    edges: [{ source: 'when', target: 'src' }],
  };
}

/** Creates and publishes a flow with one schedule trigger; returns its id. */
function publishedFlow(schedule: Partial<ScheduleParams> = {}, name = 'Scheduled'): string {
  const { id } = parts.flows.create(scheduledDoc(name, schedule));
  parts.flows.publish(id);
  return id;
}

function runsOf(flowId: string): RunView[] {
  const rows = parts.db.$client
    .prepare('SELECT id, trigger, scheduled_for, status FROM runs WHERE flow_id = ? ORDER BY id')
    .all(flowId) as { id: number; trigger: string; scheduled_for: number | null; status: string }[];
  return rows.map((r) => ({
    id: String(r.id),
    trigger: r.trigger,
    scheduledFor: r.scheduled_for === null ? null : iso(r.scheduled_for),
    status: r.status,
  }));
}

const slotsOf = (flowId: string) => runsOf(flowId).map((r) => r.scheduledFor);

function stateOf(flowId: string, nodeId = 'when') {
  return parts.db.$client
    .prepare('SELECT last_slot, last_run_id, updated_at FROM schedule_state WHERE flow_id = ? AND node_id = ?')
    .get(flowId, nodeId) as { last_slot: number | null; last_run_id: number | null; updated_at: number } | undefined;
}

const scheduled = (id: string, slot: string, status = 'queued'): RunView => ({
  id,
  trigger: 'schedule',
  scheduledFor: slot,
  status,
});

const firedRunIds = (firings: Firing[]) => firings.map((f) => f.runId);

/** A second scheduler on the same database, as a restarted process would make. */
const restartedScheduler = () =>
  new Scheduler({ db: parts.db, flows: parts.flows, runs: parts.runs, runner: parts.runner });

/** The server's parts of a second process: its own SQLite connection to the same file. */
async function secondProcess(): Promise<SluiceParts> {
  const other = await openSluice({
    dataDir: t.dir,
    sandboxPort: 0,
    sandboxUrl: parts.sandbox.url,
    sandboxWorkOrders: 120,
    concurrency: 4,
    perFlow: 4,
    payloadCap: 65_536,
    retention: { days: 30, runsPerFlow: 100 },
    apiToken: TEST_TOKEN,
    env: {},
    logger: parts.logger,
  });
  await other.runner.stop();
  extraClients.push(other.db.$client);
  return other;
}

/** The database of `parts`, but running `meanwhile` once just before the first transaction begins. */
function dbInterruptedBeforeTransaction(db: Db, meanwhile: () => void): Db {
  const client = db.$client;
  let pending = true;
  const interrupted = new Proxy(client, {
    get(target, prop) {
      if (prop === 'transaction') {
        return (fn: (...args: unknown[]) => unknown) => {
          if (pending) {
            pending = false;
            meanwhile();
          }
          return target.transaction(fn);
        };
      }
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { $client: interrupted } as unknown as Db;
}

describe('a new schedule', () => {
  it('never fires for slots before it was first seen, then fires each slot once', () => {
    const id = publishedFlow(); // published (in real time) well before the first simulated tick
    expect(scheduler.tick(at('2026-05-04T10:00:30Z'))).toEqual([]);
    expect(runsOf(id)).toEqual([]);
    expect(stateOf(id)).toEqual({ last_slot: null, last_run_id: null, updated_at: at('2026-05-04T10:00:30Z') });

    const fired = scheduler.tick(at('2026-05-04T11:00:00Z'));
    expect(fired).toEqual([
      { flowId: id, nodeId: 'when', slot: at('2026-05-04T11:00:00Z'), runId: expect.any(String) },
    ]);
    const runId = fired[0]?.runId as string;
    expect(runsOf(id)).toEqual([scheduled(runId, '2026-05-04T11:00:00.000Z')]);

    for (const now of ['2026-05-04T11:00:00Z', '2026-05-04T11:00:05Z', '2026-05-04T11:30:00Z']) {
      expect(scheduler.tick(at(now))).toEqual([]);
    }
    expect(runsOf(id)).toEqual([scheduled(runId, '2026-05-04T11:00:00.000Z')]);
    expect(stateOf(id)).toMatchObject({ last_slot: at('2026-05-04T11:00:00Z'), last_run_id: Number(runId) });
  });

  it('fires a slot that falls exactly on the instant it is first seen', () => {
    const id = publishedFlow();
    expect(firedRunIds(scheduler.tick(at('2026-05-04T11:00:00Z')))).toEqual([expect.any(String)]);
    expect(slotsOf(id)).toEqual(['2026-05-04T11:00:00.000Z']);
  });
});

describe('a restart at the moment a slot was due', () => {
  it('does not fire again a slot the previous process fired', () => {
    const id = publishedFlow({ catchUp: 'none' });
    scheduler.tick(at('2026-05-04T10:30:00Z'));
    const fired = scheduler.tick(at('2026-05-04T11:00:00.200Z'));
    expect(fired).toHaveLength(1);

    const restarted = restartedScheduler();
    expect(restarted.tick(at('2026-05-04T11:00:00.500Z'))).toEqual([]);
    expect(restarted.tick(at('2026-05-04T11:00:40Z'))).toEqual([]);
    expect(runsOf(id)).toEqual([scheduled(fired[0]?.runId as string, '2026-05-04T11:00:00.000Z')]);
  });

  it('fires, within the grace, the slot that passed while the process was down', () => {
    const id = publishedFlow({ catchUp: 'none' });
    scheduler.tick(at('2026-05-04T10:30:00Z')); // the process that went down before 11:00

    const restarted = restartedScheduler();
    const fired = restarted.tick(at('2026-05-04T11:00:20Z'));
    expect(fired).toEqual([
      { flowId: id, nodeId: 'when', slot: at('2026-05-04T11:00:00Z'), runId: expect.any(String) },
    ]);
    expect(restarted.tick(at('2026-05-04T11:02:00Z'))).toEqual([]);
    expect(runsOf(id)).toEqual([scheduled(fired[0]?.runId as string, '2026-05-04T11:00:00.000Z')]);
  });
});

describe('two processes on one database', () => {
  it('fire a slot once in total when they tick at the same instant', async () => {
    const id = publishedFlow();
    const other = (await secondProcess()).scheduler;
    scheduler.tick(at('2026-05-04T10:30:00Z'));
    other.tick(at('2026-05-04T10:30:00Z'));

    const now = at('2026-05-04T11:00:00Z');
    const mine = scheduler.tick(now);
    const theirs = other.tick(now);
    expect([...mine, ...theirs]).toHaveLength(1);
    expect(runsOf(id)).toEqual([scheduled(mine[0]?.runId as string, '2026-05-04T11:00:00.000Z')]);
  });

  it('fire a slot once when one commits between the other reading the state and firing', async () => {
    const id = publishedFlow();
    const other = await secondProcess();
    scheduler.tick(at('2026-05-04T10:30:00Z'));

    const now = at('2026-05-04T11:00:00Z');
    let mine: Firing[] = [];
    const racing = new Scheduler({
      db: dbInterruptedBeforeTransaction(other.db, () => {
        mine = scheduler.tick(now);
      }),
      flows: other.flows,
      runs: other.runs,
      runner: other.runner,
    });
    expect(racing.tick(now)).toEqual([]);
    expect(mine).toHaveLength(1);
    expect(runsOf(id)).toEqual([scheduled(mine[0]?.runId as string, '2026-05-04T11:00:00.000Z')]);
  });

  it('with cancel-previous, the losing process does not cancel the run the winner just fired', async () => {
    const id = publishedFlow({ overlap: 'cancel-previous' });
    const other = await secondProcess();
    scheduler.tick(at('2026-05-04T09:30:00Z'));
    const tenOClock = scheduler.tick(at('2026-05-04T10:00:00Z'))[0]?.runId as string;

    const now = at('2026-05-04T11:00:00Z');
    let mine: Firing[] = [];
    // The other process has read the schedule's state (10:00 last fired) when this one fires 11:00;
    // its cancel happens only once it holds the write lock and has seen that, so it cancels nothing.
    let cancels = 0;
    const otherRunner = Object.create(other.runner) as Runner;
    otherRunner.cancelFlowRuns = (flowId: string) => {
      cancels++;
      return other.runner.cancelFlowRuns(flowId);
    };
    const racing = new Scheduler({
      db: dbInterruptedBeforeTransaction(other.db, () => {
        mine = scheduler.tick(now);
      }),
      flows: other.flows,
      runs: other.runs,
      runner: otherRunner,
    });
    expect(racing.tick(now)).toEqual([]);
    expect(mine).toHaveLength(1);
    expect(runsOf(id)).toEqual([
      scheduled(tenOClock, '2026-05-04T10:00:00.000Z', 'cancelled'),
      scheduled(mine[0]?.runId as string, '2026-05-04T11:00:00.000Z', 'queued'),
    ]);
    expect(cancels).toBe(0);
  });
});

describe('catch-up after downtime', () => {
  const cases: { catchUp: CatchUp; limit: number; now: string; fired: string[] }[] = [
    { catchUp: 'none', limit: 10, now: '2026-05-04T11:05:00Z', fired: [] },
    { catchUp: 'none', limit: 10, now: '2026-05-04T11:00:30Z', fired: ['11:00'] },
    { catchUp: 'latest', limit: 10, now: '2026-05-04T11:00:30Z', fired: ['11:00'] },
    { catchUp: 'latest', limit: 10, now: '2026-05-04T11:05:00Z', fired: ['11:00'] },
    { catchUp: 'all', limit: 3, now: '2026-05-04T11:00:30Z', fired: ['09:00', '10:00', '11:00'] },
    { catchUp: 'all', limit: 10, now: '2026-05-04T11:05:00Z', fired: ['07:00', '08:00', '09:00', '10:00', '11:00'] },
  ];

  it.each(cases)('$catchUp (limit $limit), back at $now after firing 06:00', ({ catchUp, limit, now, fired }) => {
    const id = publishedFlow({ catchUp, catchUpLimit: limit });
    const slot = (hhmm: string) => `2026-05-04T${hhmm}:00.000Z`;
    scheduler.tick(at('2026-05-04T05:30:00Z'));
    expect(scheduler.tick(at('2026-05-04T06:00:00Z'))).toHaveLength(1);

    const caughtUp = scheduler.tick(at(now));
    expect(caughtUp.map((f) => iso(f.slot))).toEqual(fired.map(slot));
    expect(caughtUp.every((f) => f.runId !== undefined)).toBe(true);
    expect(slotsOf(id)).toEqual(['06:00', ...fired].map(slot));
    expect(stateOf(id)?.last_slot).toBe(at(slot('11:00')));

    expect(scheduler.tick(at(now))).toEqual([]);
    expect(scheduler.tick(at('2026-05-04T11:30:00Z'))).toEqual([]);
    expect(scheduler.tick(at('2026-05-04T12:00:00Z')).map((f) => iso(f.slot))).toEqual([slot('12:00')]);
    expect(slotsOf(id)).toEqual(['06:00', ...fired, '12:00'].map(slot));
    expect(runsOf(id).every((r) => r.trigger === 'schedule' && r.status === 'queued')).toBe(true);
  });
});

describe('overlap with a run of the flow still queued', () => {
  function withRunAtTen(overlap: Overlap) {
    const id = publishedFlow({ overlap });
    scheduler.tick(at('2026-05-04T09:30:00Z'));
    const first = scheduler.tick(at('2026-05-04T10:00:00Z'))[0]?.runId as string;
    expect(runsOf(id)).toEqual([scheduled(first, '2026-05-04T10:00:00.000Z')]);
    return { id, first };
  }

  it('skip: skips the next slot but still records it as passed', () => {
    const { id, first } = withRunAtTen('skip');
    expect(scheduler.tick(at('2026-05-04T11:00:00Z'))).toEqual([
      { flowId: id, nodeId: 'when', slot: at('2026-05-04T11:00:00Z'), skipped: 'a run of this flow is still going' },
    ]);
    expect(runsOf(id)).toEqual([scheduled(first, '2026-05-04T10:00:00.000Z')]);
    expect(stateOf(id)).toMatchObject({ last_slot: at('2026-05-04T11:00:00Z'), last_run_id: Number(first) });
    expect(scheduler.tick(at('2026-05-04T11:00:30Z'))).toEqual([]);

    parts.runner.cancel(first);
    const next = scheduler.tick(at('2026-05-04T12:00:00Z'))[0]?.runId as string;
    expect(runsOf(id)).toEqual([
      scheduled(first, '2026-05-04T10:00:00.000Z', 'cancelled'),
      scheduled(next, '2026-05-04T12:00:00.000Z'),
    ]);
  });

  it('queue: queues a second run', () => {
    const { id, first } = withRunAtTen('queue');
    const second = scheduler.tick(at('2026-05-04T11:00:00Z'))[0]?.runId as string;
    expect(second).not.toBe(first);
    expect(runsOf(id)).toEqual([
      scheduled(first, '2026-05-04T10:00:00.000Z'),
      scheduled(second, '2026-05-04T11:00:00.000Z'),
    ]);
  });

  it('cancel-previous: cancels the earlier run and queues a new one', () => {
    const { id, first } = withRunAtTen('cancel-previous');
    const second = scheduler.tick(at('2026-05-04T11:00:00Z'))[0]?.runId as string;
    expect(runsOf(id)).toEqual([
      scheduled(first, '2026-05-04T10:00:00.000Z', 'cancelled'),
      scheduled(second, '2026-05-04T11:00:00.000Z'),
    ]);
    expect(scheduler.tick(at('2026-05-04T11:00:30Z'))).toEqual([]);
    expect(runsOf(id).map((r) => r.status)).toEqual(['cancelled', 'queued']);
  });
});

describe('enabling and disabling', () => {
  it('a disabled flow does not fire; re-enabled, it fires only slots after it was re-enabled', () => {
    const id = publishedFlow();
    scheduler.tick(at('2026-05-04T09:30:00Z'));
    expect(scheduler.tick(at('2026-05-04T10:00:00Z'))).toHaveLength(1);

    parts.flows.setEnabled(id, false);
    for (const now of ['2026-05-04T11:00:00Z', '2026-05-04T12:00:00Z', '2026-05-04T12:20:00Z']) {
      expect(scheduler.tick(at(now))).toEqual([]);
    }
    expect(slotsOf(id)).toEqual(['2026-05-04T10:00:00.000Z']);

    parts.flows.setEnabled(id, true);
    expect(scheduler.tick(at('2026-05-04T12:30:00Z'))).toEqual([]);
    expect(scheduler.tick(at('2026-05-04T12:59:59Z'))).toEqual([]);
    expect(scheduler.tick(at('2026-05-04T13:00:00Z')).map((f) => iso(f.slot))).toEqual(['2026-05-04T13:00:00.000Z']);
    expect(slotsOf(id)).toEqual(['2026-05-04T10:00:00.000Z', '2026-05-04T13:00:00.000Z']);
  });
});

describe('publishing', () => {
  it('an unpublished flow does not fire, and once published fires only slots from then on', () => {
    const { id } = parts.flows.create(scheduledDoc('Draft only'));
    for (const now of ['2026-05-04T10:00:00Z', '2026-05-04T11:00:00Z']) {
      expect(scheduler.tick(at(now))).toEqual([]);
    }
    expect(runsOf(id)).toEqual([]);
    expect(stateOf(id)).toBeUndefined();

    parts.flows.publish(id);
    expect(scheduler.tick(at('2026-05-04T11:10:00Z'))).toEqual([]);
    expect(scheduler.tick(at('2026-05-04T12:00:00Z')).map((f) => iso(f.slot))).toEqual(['2026-05-04T12:00:00.000Z']);
    expect(slotsOf(id)).toEqual(['2026-05-04T12:00:00.000Z']);
  });

  it('a schedule added in a new version fires once that version is published, pinned to it', () => {
    const { id } = parts.flows.create({
      format: 1,
      name: 'Grows a schedule',
      nodes: [{ id: 'start', type: 'manual', params: {} }, SOURCE],
      edges: [{ source: 'start', target: 'src' }],
    });
    parts.flows.publish(id);
    expect(scheduler.tick(at('2026-05-04T10:00:00Z'))).toEqual([]);

    parts.flows.update(id, scheduledDoc('Grows a schedule'));
    for (const now of ['2026-05-04T10:30:00Z', '2026-05-04T11:00:00Z']) {
      expect(scheduler.tick(at(now))).toEqual([]);
    }
    expect(runsOf(id)).toEqual([]);

    const v2 = parts.flows.publish(id);
    expect(v2.version).toBe(2);
    expect(scheduler.tick(at('2026-05-04T11:20:00Z'))).toEqual([]);
    const atNoon = scheduler.tick(at('2026-05-04T12:00:00Z'))[0]?.runId as string;

    const v3 = parts.flows.update(id, scheduledDoc('Grows a schedule', {}, [{ key: 'a' }, { key: 'b' }]));
    expect(v3.version).toBe(3);
    const atOne = scheduler.tick(at('2026-05-04T13:00:00Z'))[0]?.runId as string;

    expect(runsOf(id)).toEqual([
      scheduled(atNoon, '2026-05-04T12:00:00.000Z'),
      scheduled(atOne, '2026-05-04T13:00:00.000Z'),
    ]);
    for (const runId of [atNoon, atOne]) {
      expect(parts.runs.get(runId).flowVersion).toBe(2);
      expect(parts.runs.versionOf(runId).flowVersionId).toBe(Number(v2.versionId));
    }
  });
});

describe('publishing a schedule again', () => {
  it('a schedule taken out and added back fires only slots from its new publication on', () => {
    const { id } = parts.flows.create(scheduledDoc('Comes and goes'));
    parts.flows.publish(id);
    scheduler.tick(at('2026-05-04T08:30:00Z'));
    const atNine = scheduler.tick(at('2026-05-04T09:00:00Z'))[0]?.runId as string;

    parts.flows.update(id, {
      format: 1,
      name: 'Comes and goes',
      nodes: [{ id: 'when', type: 'manual', params: {} }, SOURCE],
      edges: [{ source: 'when', target: 'src' }],
    });
    parts.flows.publish(id);
    for (const now of ['2026-05-04T10:00:00Z', '2026-05-04T12:00:00Z', '2026-05-04T15:00:00Z']) {
      expect(scheduler.tick(at(now))).toEqual([]);
    }

    parts.flows.update(id, scheduledDoc('Comes and goes'));
    parts.flows.publish(id);
    // 15:00 passed while the published version had no schedule: it is not a missed slot to catch up
    expect(scheduler.tick(at('2026-05-04T15:30:00Z'))).toEqual([]);
    const atFour = scheduler.tick(at('2026-05-04T16:00:00Z'))[0]?.runId as string;
    expect(runsOf(id)).toEqual([
      scheduled(atNine, '2026-05-04T09:00:00.000Z'),
      scheduled(atFour, '2026-05-04T16:00:00.000Z'),
    ]);
  });
});

describe('two schedules in one flow', () => {
  it('make one run for a slot both want, and each fires its own other slots', () => {
    const doc = scheduledDoc('Two schedules');
    const { id } = parts.flows.create({
      ...doc,
      nodes: [
        ...doc.nodes,
        { id: 'half', type: 'schedule', params: { ...HOURLY, cron: '0,30 * * * *' } },
        { ...SOURCE, id: 'src2' },
      ],
      edges: [...doc.edges, { source: 'half', target: 'src2' }],
    });
    parts.flows.publish(id);
    scheduler.tick(at('2026-05-04T10:45:00Z'));
    const eleven = scheduler.tick(at('2026-05-04T11:00:00Z'));
    expect(eleven.filter((f) => f.runId)).toHaveLength(1);
    expect(scheduler.tick(at('2026-05-04T11:30:00Z')).map((f) => [f.nodeId, iso(f.slot)])).toEqual([
      ['half', '2026-05-04T11:30:00.000Z'],
    ]);
    expect(slotsOf(id)).toEqual(['2026-05-04T11:00:00.000Z', '2026-05-04T11:30:00.000Z']);
    expect(stateOf(id, 'when')?.last_slot).toBe(at('2026-05-04T11:00:00Z'));
    expect(stateOf(id, 'half')?.last_slot).toBe(at('2026-05-04T11:30:00Z'));
  });
});

describe('daylight saving time', () => {
  const nights = [
    {
      name: 'spring forward (02:30 does not exist on 29 March)',
      from: '2026-03-27T22:00:00Z',
      until: '2026-03-30T04:00:00Z',
      slots: ['2026-03-28T01:30:00.000Z', '2026-03-29T01:00:00.000Z', '2026-03-30T00:30:00.000Z'],
    },
    {
      name: 'fall back (02:30 happens twice on 25 October)',
      from: '2026-10-23T22:00:00Z',
      until: '2026-10-26T04:00:00Z',
      slots: ['2026-10-24T00:30:00.000Z', '2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z'],
    },
  ];

  it.each(nights)('Europe/Berlin 02:30, $name: one run a day', ({ from, until, slots }) => {
    const id = publishedFlow({ cron: '30 2 * * *', timezone: 'Europe/Berlin', catchUp: 'all', overlap: 'queue' });
    const fired: string[] = [];
    for (let now = at(from); now <= at(until); now += 15 * 60_000) {
      fired.push(...scheduler.tick(now).map((f) => iso(f.slot)));
    }
    expect(fired).toEqual(slots);
    expect(runsOf(id).map((r) => [r.scheduledFor, r.trigger, r.status])).toEqual(
      slots.map((slot) => [slot, 'schedule', 'queued']),
    );
  });
});

describe('describe', () => {
  it('gives the meaning, the next five fires while live, and the last slot and run', () => {
    const id = publishedFlow();
    const now = at('2026-05-04T10:20:00Z');
    const before = scheduler.describe(id, now);
    expect(before).toEqual({
      enabled: true,
      published: true,
      schedules: [
        {
          nodeId: 'when',
          ...HOURLY,
          description: 'Every hour (UTC)',
          next: [
            '2026-05-04T11:00:00.000Z',
            '2026-05-04T12:00:00.000Z',
            '2026-05-04T13:00:00.000Z',
            '2026-05-04T14:00:00.000Z',
            '2026-05-04T15:00:00.000Z',
          ],
          lastSlot: null,
          lastRunId: null,
        },
      ],
    });

    scheduler.tick(now);
    const runId = scheduler.tick(at('2026-05-04T11:00:00Z'))[0]?.runId as string;
    const after = scheduler.describe(id, at('2026-05-04T11:00:00Z'));
    expect(after.schedules[0]).toMatchObject({
      lastSlot: '2026-05-04T11:00:00.000Z',
      lastRunId: runId,
      next: [
        '2026-05-04T12:00:00.000Z',
        '2026-05-04T13:00:00.000Z',
        '2026-05-04T14:00:00.000Z',
        '2026-05-04T15:00:00.000Z',
        '2026-05-04T16:00:00.000Z',
      ],
    });

    parts.flows.update(id, scheduledDoc('Scheduled', { cron: '*/5 * * * *' }));
    expect(scheduler.describe(id, at('2026-05-04T11:00:00Z')).schedules[0]).toMatchObject({
      cron: '0 * * * *',
      description: 'Every hour (UTC)',
    });

    parts.flows.setEnabled(id, false);
    const disabled = scheduler.describe(id, at('2026-05-04T11:30:00Z'));
    expect(disabled).toMatchObject({ enabled: false, published: true });
    expect(disabled.schedules[0]).toMatchObject({
      description: 'Every hour (UTC)',
      next: [],
      lastSlot: '2026-05-04T11:00:00.000Z',
      lastRunId: runId,
    });
  });

  it('shows an unpublished flow’s schedule without next fires', () => {
    const { id } = parts.flows.create(scheduledDoc('Draft', { cron: '30 2 * * *', timezone: 'Europe/Berlin' }));
    const view = scheduler.describe(id, at('2026-05-04T10:20:00Z'));
    expect(view).toMatchObject({ enabled: true, published: false });
    expect(view.schedules).toEqual([
      expect.objectContaining({
        nodeId: 'when',
        description: 'At 02:30 (Europe/Berlin)',
        next: [],
        lastSlot: null,
        lastRunId: null,
      }),
    ]);
  });
});

describe('previews from a chosen instant', () => {
  // 2027-03-28 is a spring-forward night in Berlin: 02:30 does not exist, croner fires at 03:00 CEST
  const springForward = [
    '2027-03-27T01:30:00.000Z',
    '2027-03-28T01:00:00.000Z',
    '2027-03-29T00:30:00.000Z',
    '2027-03-30T00:30:00.000Z',
    '2027-03-31T00:30:00.000Z',
  ];

  it('GET /api/schedules/preview?from= lists the fires after that instant', async () => {
    const query = new URLSearchParams({
      cron: '30 2 * * *',
      timezone: 'Europe/Berlin',
      from: '2027-03-27T00:00:00+01:00',
    });
    const res = await t.app.request(`/api/schedules/preview?${query}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ description: 'At 02:30 (Europe/Berlin)', next: springForward });

    const bad = await t.app.request('/api/schedules/preview?cron=30+2+*+*+*&from=next+tuesday');
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toMatch(/from/);
  });

  it('GET /api/flows/:id/schedule?from= lists a live schedule’s fires after that instant', async () => {
    const id = publishedFlow({ cron: '30 2 * * *', timezone: 'Europe/Berlin' });
    const res = await t.app.request(`/api/flows/${id}/schedule?from=2027-03-27T00:00:00%2B01:00`);
    expect(res.status).toBe(200);
    const view = (await res.json()) as { schedules: { next: string[] }[] };
    expect(view.schedules[0]?.next).toEqual(springForward);
    // without `from`, from now
    const now = (await (await t.app.request(`/api/flows/${id}/schedule`)).json()) as {
      schedules: { next: string[] }[];
    };
    expect(Date.parse(now.schedules[0]?.next[0] ?? '')).toBeGreaterThan(Date.now());
  });
});
