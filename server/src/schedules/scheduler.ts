import type { Flow, FlowDetail } from '@sluice/shared';
import { ConflictError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { ScheduleSlots } from '../storage/port.js';
import { type CatchUp, describeSchedule, dueSlots, nextFires, type ScheduleSpec } from './cron.js';

/*
 * What the scheduler needs of the rest of the server, declared here rather than imported: flows/
 * checks the cron of a schedule node with ./cron.ts, so schedules/ importing flows/ (or runs/, which
 * imports flows/) would make the two folders a cycle. FlowRepository, the storage's RunQueries and
 * Runner fit.
 */

/** The stored flows: the published, enabled ones and any version of one. */
export interface ScheduledFlows {
  published(): Promise<{ id: string; version: number; document: Flow }[]>;
  get(id: string, version?: number): Promise<Pick<FlowDetail, 'publishedVersion' | 'enabled' | 'document'>>;
}

/** The stored runs: which of a flow's runs are still going. */
export interface FlowRuns {
  activeOf(flowId: string): Promise<readonly unknown[]>;
}

/**
 * The run queue: queues a run of a flow's published version for a slot (refused with a
 * `ConflictError` code `slot_taken` when the slot has its run already); cancels a flow's unfinished
 * runs but those named.
 */
export interface RunQueue {
  enqueue(
    flowId: string,
    trigger: 'schedule',
    options: { version: 'published'; scheduledFor: number },
  ): Promise<string>;
  cancelFlowRuns(flowId: string, except?: readonly string[]): Promise<string[]>;
}

type Overlap = 'skip' | 'queue' | 'cancel-previous';

interface ScheduleParams extends ScheduleSpec {
  overlap: Overlap;
  catchUp: CatchUp;
  catchUpLimit: number;
}

/** A slot counts as missed when its run did not start within this long of its time. */
export const MISSED_AFTER_MS = 60_000;

/** A due slot that did not start its run in time, and why. */
export interface MissedSlot {
  flowId: string;
  nodeId: string;
  slot: number;
  reason: string;
}

/** What a schedule did at one slot. */
export interface Firing {
  flowId: string;
  nodeId: string;
  slot: number;
  runId?: string;
  skipped?: string;
}

export interface ScheduleView extends ScheduleParams {
  nodeId: string;
  description: string;
  /** The next five fire times (ISO), or none while the flow is disabled or unpublished. */
  next: string[];
  lastSlot: string | null;
  lastRunId: string | null;
}

const schedulesOf = (flow: Flow) =>
  flow.nodes
    .filter((n) => n.type === 'schedule')
    .map((n) => ({ nodeId: n.id, params: n.params as unknown as ScheduleParams }));

/**
 * Fires the schedule triggers of published, enabled flows. Each schedule remembers the last slot it
 * fired. A slot fires by queueing its run; the runs table refuses a second run for the same flow and
 * slot (`slot_taken`: another process fired it, and it is skipped silently), then the last slot moves
 * on only if no other process moved it first. So a slot fires once, even across a restart at the
 * moment it was due or with several processes on one database, without a transaction around both.
 */
export class Scheduler {
  private timer: NodeJS.Timeout | undefined;
  /** The tick under way: a tick starts only once the one before it has ended. */
  private ticking: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly o: {
      slots: ScheduleSlots;
      flows: ScheduledFlows;
      runs: FlowRuns;
      runner: RunQueue;
      now?: () => number;
      tickMs?: number;
      /** Where firings and failures are logged; none by default (tests). */
      logger?: Logger;
      /**
       * Told of each due slot that did not start its run within `MISSED_AFTER_MS` of its time (fired
       * late, skipped by its overlap or catch-up policy, or refused), by the process that fired the slots.
       */
      onMissed?: (missed: MissedSlot) => void;
      /** Told of each run a slot fired here: the flow and the slot (ms) (the metrics' last fire time). */
      onFire?: (flowId: string, slot: number) => void;
    },
  ) {}

  /** When a tick of `start`'s loop last ended without failing (Date.now); undefined before the first. */
  lastTickAt: number | undefined;

  /** Whether `start` was called and `stop` not since: this process runs the schedules. */
  get running(): boolean {
    return this.timer !== undefined;
  }

  private now(): number {
    return (this.o.now ?? Date.now)();
  }

  start(): void {
    let busy = false;
    const tick = async () => {
      // a slow tick (a busy database) is not queued again behind itself every second
      if (busy) return;
      busy = true;
      try {
        await this.tick();
        this.lastTickAt = Date.now();
      } catch (err) {
        this.o.logger?.error({ err }, 'schedule tick failed; the next tick tries again');
      } finally {
        busy = false;
      }
    };
    void tick();
    this.timer = setInterval(() => void tick(), this.o.tickMs ?? 1000).unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Fires every due slot of every schedule now; returns what happened. Ticks of one scheduler never overlap. */
  tick(now = this.now()): Promise<Firing[]> {
    const run = this.ticking.then(
      () => this.tickNow(now),
      () => this.tickNow(now),
    );
    this.ticking = run.catch(() => {});
    return run;
  }

  private async tickNow(now: number): Promise<Firing[]> {
    const firings: Firing[] = [];
    for (const flow of await this.o.flows.published()) {
      for (const { nodeId, params } of schedulesOf(flow.document)) {
        firings.push(...(await this.fireDue(flow.id, flow.version, nodeId, params, now)));
      }
    }
    for (const f of firings) {
      const slot = new Date(f.slot).toISOString();
      const line = { flowId: f.flowId, nodeId: f.nodeId, slot };
      if (f.runId) this.o.logger?.info({ ...line, runId: f.runId }, 'schedule fired a run');
      else this.o.logger?.info({ ...line, skipped: f.skipped }, 'schedule skipped a slot');
    }
    return firings;
  }

  private async fireDue(
    flowId: string,
    version: number,
    nodeId: string,
    params: ScheduleParams,
    now: number,
  ): Promise<Firing[]> {
    const state = await this.o.slots.arm(flowId, nodeId, version, now);
    const due = dueSlots({
      spec: params,
      lastSlot: state.lastSlot ?? undefined,
      sinceMs: state.updatedAt,
      nowMs: now,
      catchUp: params.catchUp,
      limit: params.catchUpLimit,
    });
    if (due.skipTo === undefined) return [];
    // another process may have fired these slots since we looked: then they are not ours to fire
    const current = await this.o.slots.get(flowId, nodeId);
    if ((current?.lastSlot ?? null) !== state.lastSlot) return [];
    const firings: Firing[] = [];
    const fired: string[] = [];
    const taken = new Set<number>();
    for (const slot of due.fire) {
      if (params.overlap === 'skip' && (await this.o.runs.activeOf(flowId)).length > 0) {
        firings.push({ flowId, nodeId, slot, skipped: 'a run of this flow is still going' });
        continue;
      }
      try {
        const runId = await this.o.runner.enqueue(flowId, 'schedule', { version: 'published', scheduledFor: slot });
        fired.push(runId);
        firings.push({ flowId, nodeId, slot, runId });
        this.o.onFire?.(flowId, slot);
      } catch (err) {
        if (err instanceof ConflictError && err.code === 'slot_taken') {
          taken.add(slot); // fired by another process
          continue;
        }
        firings.push({ flowId, nodeId, slot, skipped: (err as Error).message });
      }
    }
    // only the process that queued a slot's run cancels the runs before it (never the run just fired)
    if (params.overlap === 'cancel-previous' && fired.length) await this.o.runner.cancelFlowRuns(flowId, fired);
    const advanced = await this.o.slots.advance(flowId, nodeId, state.lastSlot, due.skipTo, fired.at(-1) ?? null);
    if (advanced) this.reportMissed(flowId, nodeId, due.skipTo, firings, taken, now);
    return firings;
  }

  /** Tells `onMissed` of the slots that did not start a run within a minute of their time. */
  private reportMissed(
    flowId: string,
    nodeId: string,
    latest: number,
    firings: Firing[],
    taken: ReadonlySet<number>,
    now: number,
  ): void {
    const onMissed = this.o.onMissed;
    if (!onMissed) return;
    const late = (slot: number) => now - slot > MISSED_AFTER_MS;
    const missed: MissedSlot[] = [];
    for (const f of firings) {
      if (f.skipped) missed.push({ flowId, nodeId, slot: f.slot, reason: `skipped: ${f.skipped}` });
      else if (late(f.slot)) {
        missed.push({ flowId, nodeId, slot: f.slot, reason: `fired ${Math.round((now - f.slot) / 1000)} s late` });
      }
    }
    // the catch-up policy fired nothing for the latest slot (none: it is past its grace time)
    if (!firings.some((f) => f.slot === latest) && !taken.has(latest) && late(latest)) {
      missed.push({
        flowId,
        nodeId,
        slot: latest,
        reason: 'not fired: past its time when the scheduler saw it (catch-up policy)',
      });
    }
    for (const m of missed) onMissed(m);
  }

  /** The schedules of a flow's published version (or, unpublished, of its latest), for the API and the editor. */
  async describe(
    flowId: string,
    now = this.now(),
  ): Promise<{ enabled: boolean; published: boolean; schedules: ScheduleView[] }> {
    const latest = await this.o.flows.get(flowId);
    const published = latest.publishedVersion !== null;
    const doc = published
      ? (await this.o.flows.get(flowId, latest.publishedVersion ?? undefined)).document
      : latest.document;
    const live = published && latest.enabled;
    const schedules: ScheduleView[] = [];
    for (const { nodeId, params } of schedulesOf(doc)) {
      const state = await this.o.slots.get(flowId, nodeId);
      schedules.push({
        nodeId,
        ...params,
        ...preview(params, now, live ? 5 : 0),
        lastSlot: state?.lastSlot ? new Date(state.lastSlot).toISOString() : null,
        lastRunId: state?.lastRunId ?? null,
      });
    }
    return { enabled: latest.enabled, published, schedules };
  }
}

/** The meaning and the next fire times of a schedule; an invalid one has neither. */
export function preview(spec: ScheduleSpec, now: number, count = 5): { description: string; next: string[] } {
  try {
    return {
      description: describeSchedule(spec),
      next: nextFires(spec, now, count).map((t) => new Date(t).toISOString()),
    };
  } catch {
    return { description: 'not a valid schedule', next: [] };
  }
}
