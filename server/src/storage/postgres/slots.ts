import { and, eq, sql } from 'drizzle-orm';
import { notFound } from '../../errors.js';
import type { ScheduleSlots, SlotState } from '../port.js';
import type { PgDb } from './db.js';
import { FOREIGN_KEY_VIOLATION, pgErrorCode } from './errors.js';
import { scheduleState } from './schema.js';

/** A state row as the driver gives it: bigint columns arrive as strings outside drizzle's own selects. */
type RawState = {
  last_slot: string | number | null;
  last_run_id: string | number | null;
  version: number | null;
  updated_at: string | number;
};

function fromRaw(r: RawState): SlotState {
  return {
    lastSlot: r.last_slot === null ? null : Number(r.last_slot),
    lastRunId: r.last_run_id === null ? null : String(r.last_run_id),
    version: r.version,
    updatedAt: Number(r.updated_at),
  };
}

/**
 * What each schedule has fired, in PostgreSQL: the guard that makes a slot fire once however many
 * processes run the scheduler. Moving the last slot is a compare-and-set (`advance`): of two processes
 * that saw the same slot due, one moves it and fires, the other finds it moved and does not.
 */
export class PgScheduleSlots implements ScheduleSlots {
  constructor(private readonly db: PgDb) {}

  async arm(flowId: string, nodeId: string, version: number, now: number): Promise<SlotState> {
    let rows: RawState[];
    try {
      // first seen: inserted; armed for another version (or disarmed: null): re-armed from now, its last
      // slot kept; armed for this one already: left as it is
      const result = await this.db.execute<RawState>(sql`
        WITH armed AS (
          INSERT INTO schedule_state (flow_id, node_id, last_slot, version, updated_at)
          VALUES (${flowId}, ${nodeId}, NULL, ${version}, ${now})
          ON CONFLICT (flow_id, node_id) DO UPDATE SET version = EXCLUDED.version, updated_at = EXCLUDED.updated_at
            WHERE schedule_state.version IS DISTINCT FROM EXCLUDED.version
          RETURNING last_slot, last_run_id, version, updated_at
        )
        SELECT last_slot, last_run_id, version, updated_at FROM armed
        UNION ALL
        SELECT last_slot, last_run_id, version, updated_at FROM schedule_state
          WHERE flow_id = ${flowId} AND node_id = ${nodeId} AND NOT EXISTS (SELECT 1 FROM armed)`);
      rows = result.rows;
    } catch (err) {
      if (pgErrorCode(err) === FOREIGN_KEY_VIOLATION) throw notFound('flow', flowId);
      throw err;
    }
    const row = rows[0];
    if (row) return fromRaw(row);
    // armed by another process after this statement's snapshot was taken: read it as it is now
    const current = await this.get(flowId, nodeId);
    if (!current) throw new Error(`schedule ${flowId}/${nodeId}: armed, yet not found`);
    return current;
  }

  async get(flowId: string, nodeId: string): Promise<SlotState | undefined> {
    const [row] = await this.db
      .select({
        lastSlot: scheduleState.lastSlot,
        lastRunId: scheduleState.lastRunId,
        version: scheduleState.version,
        updatedAt: scheduleState.updatedAt,
      })
      .from(scheduleState)
      .where(and(eq(scheduleState.flowId, flowId), eq(scheduleState.nodeId, nodeId)));
    return row ? { ...row, lastRunId: row.lastRunId === null ? null : String(row.lastRunId) } : undefined;
  }

  async advance(
    flowId: string,
    nodeId: string,
    from: number | null,
    to: number,
    lastRunId: string | null,
  ): Promise<boolean> {
    const result = await this.db.execute(sql`
      UPDATE schedule_state SET last_slot = ${to},
        last_run_id = COALESCE(${lastRunId === null ? null : Number(lastRunId)}::bigint, last_run_id)
      WHERE flow_id = ${flowId} AND node_id = ${nodeId} AND last_slot IS NOT DISTINCT FROM ${from}::bigint`);
    return result.rowCount === 1;
  }
}
