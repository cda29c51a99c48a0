import type { Flow, FlowDetail } from '@sluice/shared';
import type Database from 'better-sqlite3';
import type { Logger } from '../logger.js';
import type { Db } from '../storage/sqlite/open.js';
import { type CatchUp, describeSchedule, dueSlots, nextFires, type ScheduleSpec } from './cron.js';

/*
 * What the scheduler needs of the rest of the server, declared here rather than imported: flows/
 * checks the cron of a schedule node with ./cron.ts, so schedules/ importing flows/ (or runs/, which
 * imports flows/) would make the two folders a cycle. FlowRepository, RunRepository and Runner fit.
 */

/** The stored flows: the published, enabled ones and any version of one. */
export interface ScheduledFlows {
  published(): { id: string; version: number; document: Flow }[];
  get(id: string, version?: number): Pick<FlowDetail, 'publishedVersion' | 'enabled' | 'document'>;
}

/** The stored runs: which of a flow's runs are still going. */
export interface FlowRuns {
  activeOf(flowId: string): readonly unknown[];
}

/** The run queue: queues a run of a flow's published version for a slot; cancels its unfinished runs. */
export interface RunQueue {
  enqueue(flowId: string, trigger: 'schedule', options: { version: 'published'; scheduledFor: number }): string;
  cancelFlowRuns(flowId: string): string[];
}

type Overlap = 'skip' | 'queue' | 'cancel-previous';

interface ScheduleParams extends ScheduleSpec {
  overlap: Overlap;
  catchUp: CatchUp;
  catchUpLimit: number;
}

interface StateRow {
  last_slot: number | null;
  last_run_id: number | null;
  version: number | null;
  updated_at: number;
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
 * fired; a slot's run and the new last slot are stored in one transaction, and the runs table refuses
 * a second run for the same flow and slot, so a slot fires once, even across a restart at the moment
 * it was due or with two processes on one database.
 */
export class Scheduler {
  private readonly c: Database.Database;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly o: {
      db: Db;
      flows: ScheduledFlows;
      runs: FlowRuns;
      runner: RunQueue;
      now?: () => number;
      tickMs?: number;
      /** Where firings and failures are logged; none by default (tests). */
      logger?: Logger;
    },
  ) {
    this.c = o.db.$client;
  }

  private now(): number {
    return (this.o.now ?? Date.now)();
  }

  start(): void {
    this.tick();
    this.timer = setInterval(() => {
      try {
        this.tick();
      } catch (err) {
        this.o.logger?.error({ err }, 'schedule tick failed; the next tick tries again');
      }
    }, this.o.tickMs ?? 1000).unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Fires every due slot of every schedule now; returns what happened. */
  tick(now = this.now()): Firing[] {
    const firings: Firing[] = [];
    for (const flow of this.o.flows.published()) {
      for (const { nodeId, params } of schedulesOf(flow.document)) {
        firings.push(...this.fireDue(flow.id, flow.version, nodeId, params, now));
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

  private fireDue(flowId: string, version: number, nodeId: string, params: ScheduleParams, now: number): Firing[] {
    const state = this.state(flowId, nodeId, version, now);
    const due = dueSlots({
      spec: params,
      lastSlot: state.last_slot ?? undefined,
      sinceMs: state.updated_at,
      nowMs: now,
      catchUp: params.catchUp,
      limit: params.catchUpLimit,
    });
    if (due.skipTo === undefined) return [];
    const firings: Firing[] = [];
    this.c
      .transaction(() => {
        // another process may have fired these slots since we looked: then they are not ours to fire
        const current = this.c
          .prepare('SELECT last_slot FROM schedule_state WHERE flow_id = ? AND node_id = ?')
          .pluck()
          .get(flowId, nodeId) as number | null;
        if (current !== state.last_slot) return;
        if (params.overlap === 'cancel-previous' && due.fire.length) this.o.runner.cancelFlowRuns(flowId);
        let lastRunId: string | undefined;
        for (const slot of due.fire) {
          if (params.overlap === 'skip' && this.o.runs.activeOf(flowId).length > 0) {
            firings.push({ flowId, nodeId, slot, skipped: 'a run of this flow is still going' });
            continue;
          }
          try {
            lastRunId = this.o.runner.enqueue(flowId, 'schedule', { version: 'published', scheduledFor: slot });
            firings.push({ flowId, nodeId, slot, runId: lastRunId });
          } catch (err) {
            if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') continue; // fired already
            firings.push({ flowId, nodeId, slot, skipped: (err as Error).message });
          }
        }
        this.c
          .prepare(
            `UPDATE schedule_state SET last_slot = ?, last_run_id = COALESCE(?, last_run_id)
               WHERE flow_id = ? AND node_id = ?`,
          )
          .run(due.skipTo, lastRunId === undefined ? null : Number(lastRunId), flowId, nodeId);
      })
      .immediate();
    return firings;
  }

  /**
   * The schedule's memory. A schedule is armed for one published version: first seen, newly
   * published, or turned on again, it fires for slots from now on only, never for slots that passed
   * before it was live.
   */
  private state(flowId: string, nodeId: string, version: number, now: number): StateRow {
    this.c
      .prepare(
        'INSERT OR IGNORE INTO schedule_state (flow_id, node_id, last_slot, version, updated_at) VALUES (?, ?, NULL, ?, ?)',
      )
      .run(flowId, nodeId, version, now);
    this.c
      .prepare(
        'UPDATE schedule_state SET version = ?, updated_at = ? WHERE flow_id = ? AND node_id = ? AND version IS NOT ?',
      )
      .run(version, now, flowId, nodeId, version);
    return this.c
      .prepare(
        'SELECT last_slot, last_run_id, version, updated_at FROM schedule_state WHERE flow_id = ? AND node_id = ?',
      )
      .get(flowId, nodeId) as StateRow;
  }

  /** The schedules of a flow's published version (or, unpublished, of its latest), for the API and the editor. */
  describe(flowId: string, now = this.now()): { enabled: boolean; published: boolean; schedules: ScheduleView[] } {
    const latest = this.o.flows.get(flowId);
    const published = latest.publishedVersion !== null;
    const doc = published ? this.o.flows.get(flowId, latest.publishedVersion ?? undefined).document : latest.document;
    const live = published && latest.enabled;
    const schedules = schedulesOf(doc).map(({ nodeId, params }): ScheduleView => {
      const row = this.c
        .prepare(
          'SELECT last_slot, last_run_id, version, updated_at FROM schedule_state WHERE flow_id = ? AND node_id = ?',
        )
        .get(flowId, nodeId) as StateRow | undefined;
      return {
        nodeId,
        ...params,
        ...preview(params, now, live ? 5 : 0),
        lastSlot: row?.last_slot ? new Date(row.last_slot).toISOString() : null,
        lastRunId: row?.last_run_id ? String(row.last_run_id) : null,
      };
    });
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
