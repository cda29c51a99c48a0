import type Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openTestSluice, TEST_TOKEN, type TestSluice } from '../http/test-support.js';
import type { Runner } from '../runs/runner.js';
import { openSluice, type SluiceParts } from '../sluice.js';
import type { ScheduleSlots } from '../storage/port.js';
import { sqliteClient } from '../storage/sqlite/index.js';
import type { CatchUp } from './cron.js';
import { type Firing, type MissedSlot, Scheduler } from './scheduler.js';

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
async function publishedFlow(schedule: Partial<ScheduleParams> = {}, name = 'Scheduled'): Promise<string> {
  const { id } = await parts.flows.create(scheduledDoc(name, schedule));
  await parts.flows.publish(id);
  return id;
}

function runsOf(flowId: string): RunView[] {
  const rows = sqliteClient(parts.storage)
    .$client.prepare('SELECT id, trigger, scheduled_for, status FROM runs WHERE flow_id = ? ORDER BY id')
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
  return sqliteClient(parts.storage)
    .$client.prepare('SELECT last_slot, last_run_id, updated_at FROM schedule_state WHERE flow_id = ? AND node_id = ?')
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
  new Scheduler({ slots: parts.storage.slots, flows: parts.flows, runs: parts.runs, runner: parts.runner });

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
  extraClients.push(sqliteClient(other.storage).$client);
  return other;
}

/**
 * A process's schedule slots, but running `meanwhile` once right after its first `arm` (it has read
 * the state, nothing fired yet) or its first `get` (it has checked the state again, about to fire).
 */
function slotsInterrupted(slots: ScheduleSlots, after: 'arm' | 'get', meanwhile: () => Promise<void>): ScheduleSlots {
  let pending = true;
  const interrupt = async <T>(result: T): Promise<T> => {
    if (pending) {
      pending = false;
      await meanwhile();
    }
    return result;
  };
  return {
    arm: async (...a) => {
      const state = await slots.arm(...a);
      return after === 'arm' ? interrupt(state) : state;
    },
    get: async (...a) => {
      const state = await slots.get(...a);
      return after === 'get' ? interrupt(state) : state;
    },
    advance: (...a) => slots.advance(...a),
  };
}

describe('a new schedule', () => {
  it('never fires for slots before it was first seen, then fires each slot once', async () => {
    const id = await publishedFlow(); // published (in real time) well before the first simulated tick
    expect(await scheduler.tick(at('2026-05-04T10:00:30Z'))).toEqual([]);
    expect(runsOf(id)).toEqual([]);
    expect(stateOf(id)).toEqual({ last_slot: null, last_run_id: null, updated_at: at('2026-05-04T10:00:30Z') });

    const fired = await scheduler.tick(at('2026-05-04T11:00:00Z'));
    expect(fired).toEqual([
      { flowId: id, nodeId: 'when', slot: at('2026-05-04T11:00:00Z'), runId: expect.any(String) },
    ]);
    const runId = fired[0]?.runId as string;
    expect(runsOf(id)).toEqual([scheduled(runId, '2026-05-04T11:00:00.000Z')]);

    for (const now of ['2026-05-04T11:00:00Z', '2026-05-04T11:00:05Z', '2026-05-04T11:30:00Z']) {
      expect(await scheduler.tick(at(now))).toEqual([]);
    }
    expect(runsOf(id)).toEqual([scheduled(runId, '2026-05-04T11:00:00.000Z')]);
    expect(stateOf(id)).toMatchObject({ last_slot: at('2026-05-04T11:00:00Z'), last_run_id: Number(runId) });
  });

  it('fires a slot that falls exactly on the instant it is first seen', async () => {
    const id = await publishedFlow();
    expect(firedRunIds(await scheduler.tick(at('2026-05-04T11:00:00Z')))).toEqual([expect.any(String)]);
    expect(slotsOf(id)).toEqual(['2026-05-04T11:00:00.000Z']);
  });
});

describe('ticks of one scheduler', () => {
  it('never overlap: a tick asked for while one goes on runs after it, and the slot fires once', async () => {
    const id = await publishedFlow();
    const stored = parts.storage.slots;
    let inFlight = 0;
    let most = 0;
    const slots: ScheduleSlots = {
      arm: async (...a) => {
        most = Math.max(most, ++inFlight);
        try {
          await new Promise((resolve) => setTimeout(resolve, 10));
          return await stored.arm(...a);
        } finally {
          inFlight--;
        }
      },
      get: (...a) => stored.get(...a),
      advance: (...a) => stored.advance(...a),
    };
    const ticking = new Scheduler({ slots, flows: parts.flows, runs: parts.runs, runner: parts.runner });
    await ticking.tick(at('2026-05-04T10:30:00Z'));
    const now = at('2026-05-04T11:00:00Z');
    const [first, second] = await Promise.all([ticking.tick(now), ticking.tick(now)]);
    expect(most).toBe(1);
    expect(firedRunIds(first)).toEqual([expect.any(String)]);
    expect(second).toEqual([]);
    expect(slotsOf(id)).toEqual(['2026-05-04T11:00:00.000Z']);
  });
});

describe('a restart at the moment a slot was due', () => {
  it('does not fire again a slot the previous process fired', async () => {
    const id = await publishedFlow({ catchUp: 'none' });
    await scheduler.tick(at('2026-05-04T10:30:00Z'));
    const fired = await scheduler.tick(at('2026-05-04T11:00:00.200Z'));
    expect(fired).toHaveLength(1);

    const restarted = restartedScheduler();
    expect(await restarted.tick(at('2026-05-04T11:00:00.500Z'))).toEqual([]);
    expect(await restarted.tick(at('2026-05-04T11:00:40Z'))).toEqual([]);
    expect(runsOf(id)).toEqual([scheduled(fired[0]?.runId as string, '2026-05-04T11:00:00.000Z')]);
  });

  it('fires, within the grace, the slot that passed while the process was down', async () => {
    const id = await publishedFlow({ catchUp: 'none' });
    await scheduler.tick(at('2026-05-04T10:30:00Z')); // the process that went down before 11:00

    const restarted = restartedScheduler();
    const fired = await restarted.tick(at('2026-05-04T11:00:20Z'));
    expect(fired).toEqual([
      { flowId: id, nodeId: 'when', slot: at('2026-05-04T11:00:00Z'), runId: expect.any(String) },
    ]);
    expect(await restarted.tick(at('2026-05-04T11:02:00Z'))).toEqual([]);
    expect(runsOf(id)).toEqual([scheduled(fired[0]?.runId as string, '2026-05-04T11:00:00.000Z')]);
  });
});

describe('two processes on one database', () => {
  it('fire a slot once in total when they tick at the same instant', async () => {
    const id = await publishedFlow();
    const other = (await secondProcess()).scheduler;
    await scheduler.tick(at('2026-05-04T10:30:00Z'));
    await other.tick(at('2026-05-04T10:30:00Z'));

    const now = at('2026-05-04T11:00:00Z');
    const mine = await scheduler.tick(now);
    const theirs = await other.tick(now);
    expect([...mine, ...theirs]).toHaveLength(1);
    expect(runsOf(id)).toEqual([scheduled(mine[0]?.runId as string, '2026-05-04T11:00:00.000Z')]);
  });

  it.each([
    ['reading the state', 'arm'],
    ['checking it again', 'get'],
  ] as const)('fire a slot once when one fires it between the other %s and firing', async (_, after) => {
    const id = await publishedFlow();
    const other = await secondProcess();
    await scheduler.tick(at('2026-05-04T10:30:00Z'));

    const now = at('2026-05-04T11:00:00Z');
    let mine: Firing[] = [];
    const racing = new Scheduler({
      slots: slotsInterrupted(other.storage.slots, after, async () => {
        mine = await scheduler.tick(now);
      }),
      flows: other.flows,
      runs: other.runs,
      runner: other.runner,
    });
    expect(await racing.tick(now)).toEqual([]);
    expect(mine).toHaveLength(1);
    expect(runsOf(id)).toEqual([scheduled(mine[0]?.runId as string, '2026-05-04T11:00:00.000Z')]);
  });

  it('with cancel-previous, the losing process does not cancel the run the winner just fired', async () => {
    const id = await publishedFlow({ overlap: 'cancel-previous' });
    const other = await secondProcess();
    await scheduler.tick(at('2026-05-04T09:30:00Z'));
    const tenOClock = (await scheduler.tick(at('2026-05-04T10:00:00Z')))[0]?.runId as string;

    const now = at('2026-05-04T11:00:00Z');
    let mine: Firing[] = [];
    // The other process has read the schedule's state twice (10:00 last fired) when this one fires
    // 11:00; its own run for 11:00 is refused (slot taken), and only a process that fired cancels.
    let cancels = 0;
    const otherRunner = Object.create(other.runner) as Runner;
    otherRunner.cancelFlowRuns = async (flowId: string, except?: readonly string[]) => {
      cancels++;
      return await other.runner.cancelFlowRuns(flowId, except);
    };
    const racing = new Scheduler({
      slots: slotsInterrupted(other.storage.slots, 'get', async () => {
        mine = await scheduler.tick(now);
      }),
      flows: other.flows,
      runs: other.runs,
      runner: otherRunner,
    });
    expect(await racing.tick(now)).toEqual([]);
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

  it.each(cases)('$catchUp (limit $limit), back at $now after firing 06:00', async ({ catchUp, limit, now, fired }) => {
    const id = await publishedFlow({ catchUp, catchUpLimit: limit });
    const slot = (hhmm: string) => `2026-05-04T${hhmm}:00.000Z`;
    await scheduler.tick(at('2026-05-04T05:30:00Z'));
    expect(await scheduler.tick(at('2026-05-04T06:00:00Z'))).toHaveLength(1);

    const caughtUp = await scheduler.tick(at(now));
    expect(caughtUp.map((f) => iso(f.slot))).toEqual(fired.map(slot));
    expect(caughtUp.every((f) => f.runId !== undefined)).toBe(true);
    expect(slotsOf(id)).toEqual(['06:00', ...fired].map(slot));
    expect(stateOf(id)?.last_slot).toBe(at(slot('11:00')));

    expect(await scheduler.tick(at(now))).toEqual([]);
    expect(await scheduler.tick(at('2026-05-04T11:30:00Z'))).toEqual([]);
    expect((await scheduler.tick(at('2026-05-04T12:00:00Z'))).map((f) => iso(f.slot))).toEqual([slot('12:00')]);
    expect(slotsOf(id)).toEqual(['06:00', ...fired, '12:00'].map(slot));
    expect(runsOf(id).every((r) => r.trigger === 'schedule' && r.status === 'queued')).toBe(true);
  });
});

describe('overlap with a run of the flow still queued', () => {
  async function withRunAtTen(overlap: Overlap) {
    const id = await publishedFlow({ overlap });
    await scheduler.tick(at('2026-05-04T09:30:00Z'));
    const first = (await scheduler.tick(at('2026-05-04T10:00:00Z')))[0]?.runId as string;
    expect(runsOf(id)).toEqual([scheduled(first, '2026-05-04T10:00:00.000Z')]);
    return { id, first };
  }

  it('skip: skips the next slot but still records it as passed', async () => {
    const { id, first } = await withRunAtTen('skip');
    expect(await scheduler.tick(at('2026-05-04T11:00:00Z'))).toEqual([
      { flowId: id, nodeId: 'when', slot: at('2026-05-04T11:00:00Z'), skipped: 'a run of this flow is still going' },
    ]);
    expect(runsOf(id)).toEqual([scheduled(first, '2026-05-04T10:00:00.000Z')]);
    expect(stateOf(id)).toMatchObject({ last_slot: at('2026-05-04T11:00:00Z'), last_run_id: Number(first) });
    expect(await scheduler.tick(at('2026-05-04T11:00:30Z'))).toEqual([]);

    await parts.runner.cancel(first);
    const next = (await scheduler.tick(at('2026-05-04T12:00:00Z')))[0]?.runId as string;
    expect(runsOf(id)).toEqual([
      scheduled(first, '2026-05-04T10:00:00.000Z', 'cancelled'),
      scheduled(next, '2026-05-04T12:00:00.000Z'),
    ]);
  });

  it('queue: queues a second run', async () => {
    const { id, first } = await withRunAtTen('queue');
    const second = (await scheduler.tick(at('2026-05-04T11:00:00Z')))[0]?.runId as string;
    expect(second).not.toBe(first);
    expect(runsOf(id)).toEqual([
      scheduled(first, '2026-05-04T10:00:00.000Z'),
      scheduled(second, '2026-05-04T11:00:00.000Z'),
    ]);
  });

  it('cancel-previous: cancels the earlier run and queues a new one', async () => {
    const { id, first } = await withRunAtTen('cancel-previous');
    const second = (await scheduler.tick(at('2026-05-04T11:00:00Z')))[0]?.runId as string;
    expect(runsOf(id)).toEqual([
      scheduled(first, '2026-05-04T10:00:00.000Z', 'cancelled'),
      scheduled(second, '2026-05-04T11:00:00.000Z'),
    ]);
    expect(await scheduler.tick(at('2026-05-04T11:00:30Z'))).toEqual([]);
    expect(runsOf(id).map((r) => r.status)).toEqual(['cancelled', 'queued']);
  });
});

describe('enabling and disabling', () => {
  it('a disabled flow does not fire; re-enabled, it fires only slots after it was re-enabled', async () => {
    const id = await publishedFlow();
    await scheduler.tick(at('2026-05-04T09:30:00Z'));
    expect(await scheduler.tick(at('2026-05-04T10:00:00Z'))).toHaveLength(1);

    await parts.flows.setEnabled(id, false);
    for (const now of ['2026-05-04T11:00:00Z', '2026-05-04T12:00:00Z', '2026-05-04T12:20:00Z']) {
      expect(await scheduler.tick(at(now))).toEqual([]);
    }
    expect(slotsOf(id)).toEqual(['2026-05-04T10:00:00.000Z']);

    await parts.flows.setEnabled(id, true);
    expect(await scheduler.tick(at('2026-05-04T12:30:00Z'))).toEqual([]);
    expect(await scheduler.tick(at('2026-05-04T12:59:59Z'))).toEqual([]);
    expect((await scheduler.tick(at('2026-05-04T13:00:00Z'))).map((f) => iso(f.slot))).toEqual([
      '2026-05-04T13:00:00.000Z',
    ]);
    expect(slotsOf(id)).toEqual(['2026-05-04T10:00:00.000Z', '2026-05-04T13:00:00.000Z']);
  });
});

describe('publishing', () => {
  it('an unpublished flow does not fire, and once published fires only slots from then on', async () => {
    const { id } = await parts.flows.create(scheduledDoc('Draft only'));
    for (const now of ['2026-05-04T10:00:00Z', '2026-05-04T11:00:00Z']) {
      expect(await scheduler.tick(at(now))).toEqual([]);
    }
    expect(runsOf(id)).toEqual([]);
    expect(stateOf(id)).toBeUndefined();

    await parts.flows.publish(id);
    expect(await scheduler.tick(at('2026-05-04T11:10:00Z'))).toEqual([]);
    expect((await scheduler.tick(at('2026-05-04T12:00:00Z'))).map((f) => iso(f.slot))).toEqual([
      '2026-05-04T12:00:00.000Z',
    ]);
    expect(slotsOf(id)).toEqual(['2026-05-04T12:00:00.000Z']);
  });

  it('a schedule added in a new version fires once that version is published, pinned to it', async () => {
    const { id } = await parts.flows.create({
      format: 1,
      name: 'Grows a schedule',
      nodes: [{ id: 'start', type: 'manual', params: {} }, SOURCE],
      edges: [{ source: 'start', target: 'src' }],
    });
    await parts.flows.publish(id);
    expect(await scheduler.tick(at('2026-05-04T10:00:00Z'))).toEqual([]);

    await parts.flows.update(id, scheduledDoc('Grows a schedule'));
    for (const now of ['2026-05-04T10:30:00Z', '2026-05-04T11:00:00Z']) {
      expect(await scheduler.tick(at(now))).toEqual([]);
    }
    expect(runsOf(id)).toEqual([]);

    const v2 = await parts.flows.publish(id);
    expect(v2.version).toBe(2);
    expect(await scheduler.tick(at('2026-05-04T11:20:00Z'))).toEqual([]);
    const atNoon = (await scheduler.tick(at('2026-05-04T12:00:00Z')))[0]?.runId as string;

    const v3 = await parts.flows.update(id, scheduledDoc('Grows a schedule', {}, [{ key: 'a' }, { key: 'b' }]));
    expect(v3.version).toBe(3);
    const atOne = (await scheduler.tick(at('2026-05-04T13:00:00Z')))[0]?.runId as string;

    expect(runsOf(id)).toEqual([
      scheduled(atNoon, '2026-05-04T12:00:00.000Z'),
      scheduled(atOne, '2026-05-04T13:00:00.000Z'),
    ]);
    for (const runId of [atNoon, atOne]) {
      expect((await parts.runs.get(runId)).flowVersion).toBe(2);
      expect((await parts.runs.versionOf(runId)).flowVersionId).toBe(Number(v2.versionId));
    }
  });
});

describe('publishing a schedule again', () => {
  it('a schedule taken out and added back fires only slots from its new publication on', async () => {
    const { id } = await parts.flows.create(scheduledDoc('Comes and goes'));
    await parts.flows.publish(id);
    await scheduler.tick(at('2026-05-04T08:30:00Z'));
    const atNine = (await scheduler.tick(at('2026-05-04T09:00:00Z')))[0]?.runId as string;

    await parts.flows.update(id, {
      format: 1,
      name: 'Comes and goes',
      nodes: [{ id: 'when', type: 'manual', params: {} }, SOURCE],
      edges: [{ source: 'when', target: 'src' }],
    });
    await parts.flows.publish(id);
    for (const now of ['2026-05-04T10:00:00Z', '2026-05-04T12:00:00Z', '2026-05-04T15:00:00Z']) {
      expect(await scheduler.tick(at(now))).toEqual([]);
    }

    await parts.flows.update(id, scheduledDoc('Comes and goes'));
    await parts.flows.publish(id);
    // 15:00 passed while the published version had no schedule: it is not a missed slot to catch up
    expect(await scheduler.tick(at('2026-05-04T15:30:00Z'))).toEqual([]);
    const atFour = (await scheduler.tick(at('2026-05-04T16:00:00Z')))[0]?.runId as string;
    expect(runsOf(id)).toEqual([
      scheduled(atNine, '2026-05-04T09:00:00.000Z'),
      scheduled(atFour, '2026-05-04T16:00:00.000Z'),
    ]);
  });
});

describe('two schedules in one flow', () => {
  it('make one run for a slot both want, and each fires its own other slots', async () => {
    const doc = scheduledDoc('Two schedules');
    const { id } = await parts.flows.create({
      ...doc,
      nodes: [
        ...doc.nodes,
        { id: 'half', type: 'schedule', params: { ...HOURLY, cron: '0,30 * * * *' } },
        { ...SOURCE, id: 'src2' },
      ],
      edges: [...doc.edges, { source: 'half', target: 'src2' }],
    });
    await parts.flows.publish(id);
    await scheduler.tick(at('2026-05-04T10:45:00Z'));
    const eleven = await scheduler.tick(at('2026-05-04T11:00:00Z'));
    expect(eleven.filter((f) => f.runId)).toHaveLength(1);
    expect((await scheduler.tick(at('2026-05-04T11:30:00Z'))).map((f) => [f.nodeId, iso(f.slot)])).toEqual([
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

  it.each(nights)('Europe/Berlin 02:30, $name: one run a day', async ({ from, until, slots }) => {
    const id = await publishedFlow({ cron: '30 2 * * *', timezone: 'Europe/Berlin', catchUp: 'all', overlap: 'queue' });
    const fired: string[] = [];
    for (let now = at(from); now <= at(until); now += 15 * 60_000) {
      fired.push(...(await scheduler.tick(now)).map((f) => iso(f.slot)));
    }
    expect(fired).toEqual(slots);
    expect(runsOf(id).map((r) => [r.scheduledFor, r.trigger, r.status])).toEqual(
      slots.map((slot) => [slot, 'schedule', 'queued']),
    );
  });
});

describe('describe', () => {
  it('gives the meaning, the next five fires while live, and the last slot and run', async () => {
    const id = await publishedFlow();
    const now = at('2026-05-04T10:20:00Z');
    const before = await scheduler.describe(id, now);
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

    await scheduler.tick(now);
    const runId = (await scheduler.tick(at('2026-05-04T11:00:00Z')))[0]?.runId as string;
    const after = await scheduler.describe(id, at('2026-05-04T11:00:00Z'));
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

    await parts.flows.update(id, scheduledDoc('Scheduled', { cron: '*/5 * * * *' }));
    expect((await scheduler.describe(id, at('2026-05-04T11:00:00Z'))).schedules[0]).toMatchObject({
      cron: '0 * * * *',
      description: 'Every hour (UTC)',
    });

    await parts.flows.setEnabled(id, false);
    const disabled = await scheduler.describe(id, at('2026-05-04T11:30:00Z'));
    expect(disabled).toMatchObject({ enabled: false, published: true });
    expect(disabled.schedules[0]).toMatchObject({
      description: 'Every hour (UTC)',
      next: [],
      lastSlot: '2026-05-04T11:00:00.000Z',
      lastRunId: runId,
    });
  });

  it('shows an unpublished flow’s schedule without next fires', async () => {
    const { id } = await parts.flows.create(scheduledDoc('Draft', { cron: '30 2 * * *', timezone: 'Europe/Berlin' }));
    const view = await scheduler.describe(id, at('2026-05-04T10:20:00Z'));
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
    const id = await publishedFlow({ cron: '30 2 * * *', timezone: 'Europe/Berlin' });
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

describe('missed slots', () => {
  const watching = (missed: MissedSlot[]) =>
    new Scheduler({
      slots: parts.storage.slots,
      flows: parts.flows,
      runs: parts.runs,
      runner: parts.runner,
      onMissed: (m) => missed.push(m),
    });

  it('reports a slot fired more than a minute late, and one the catch-up policy left out, but not one on time', async () => {
    const late = await publishedFlow({ catchUp: 'latest' }, 'Late');
    const none = await publishedFlow({ catchUp: 'none' }, 'Left out');
    const missed: MissedSlot[] = [];
    const s = watching(missed);
    await s.tick(at('2026-03-01T00:30:00Z'));
    await s.tick(at('2026-03-01T01:00:30Z')); // both fire 01:00 in time
    expect(missed).toEqual([]);
    await s.tick(at('2026-03-01T02:10:00Z'));
    expect(missed.sort((a, b) => a.flowId.localeCompare(b.flowId))).toEqual(
      [
        { flowId: late, nodeId: 'when', slot: at('2026-03-01T02:00:00Z'), reason: 'fired 600 s late' },
        {
          flowId: none,
          nodeId: 'when',
          slot: at('2026-03-01T02:00:00Z'),
          reason: 'not fired: past its time when the scheduler saw it (catch-up policy)',
        },
      ].sort((a, b) => a.flowId.localeCompare(b.flowId)),
    );
    expect(slotsOf(late)).toEqual(['2026-03-01T01:00:00.000Z', '2026-03-01T02:00:00.000Z']);
    expect(slotsOf(none)).toEqual(['2026-03-01T01:00:00.000Z']);
  });

  it('reports a slot its overlap policy skipped, once, from the process that handled it', async () => {
    const id = await publishedFlow({ overlap: 'skip' }, 'Skipping');
    const missed: MissedSlot[] = [];
    const s = watching(missed);
    const other = watching(missed);
    await s.tick(at('2026-03-01T00:30:00Z'));
    await s.tick(at('2026-03-01T01:00:05Z'));
    // the 01:00 run is still queued (nothing executes runs here) when 02:00 is due; both processes tick
    await Promise.all([s.tick(at('2026-03-01T02:00:05Z')), other.tick(at('2026-03-01T02:00:05Z'))]);
    expect(missed).toEqual([
      {
        flowId: id,
        nodeId: 'when',
        slot: at('2026-03-01T02:00:00Z'),
        reason: 'skipped: a run of this flow is still going',
      },
    ]);
  });
});
