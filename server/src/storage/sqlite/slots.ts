import type Database from 'better-sqlite3';
import type { ScheduleSlots, SlotState } from '../port.js';
import type { Db } from './open.js';

interface StateRow {
  last_slot: number | null;
  last_run_id: number | null;
  version: number | null;
  updated_at: number;
}

const state = (r: StateRow): SlotState => ({
  lastSlot: r.last_slot,
  lastRunId: r.last_run_id === null ? null : String(r.last_run_id),
  version: r.version,
  updatedAt: r.updated_at,
});

/** What each schedule has fired, in `schedule_state`; `advance` is one conditional UPDATE. */
export class SqliteSlots implements ScheduleSlots {
  private readonly c: Database.Database;

  constructor(db: Db) {
    this.c = db.$client;
  }

  async arm(flowId: string, nodeId: string, version: number, now: number): Promise<SlotState> {
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
    return state(this.read(flowId, nodeId) as StateRow);
  }

  async get(flowId: string, nodeId: string): Promise<SlotState | undefined> {
    const row = this.read(flowId, nodeId);
    return row ? state(row) : undefined;
  }

  async advance(
    flowId: string,
    nodeId: string,
    from: number | null,
    to: number,
    lastRunId: string | null,
  ): Promise<boolean> {
    const info = this.c
      .prepare(
        `UPDATE schedule_state SET last_slot = ?, last_run_id = COALESCE(?, last_run_id)
           WHERE flow_id = ? AND node_id = ? AND last_slot IS ?`,
      )
      .run(to, lastRunId === null ? null : Number(lastRunId), flowId, nodeId, from);
    return info.changes === 1;
  }

  private read(flowId: string, nodeId: string): StateRow | undefined {
    return this.c
      .prepare(
        'SELECT last_slot, last_run_id, version, updated_at FROM schedule_state WHERE flow_id = ? AND node_id = ?',
      )
      .get(flowId, nodeId) as StateRow | undefined;
  }
}
