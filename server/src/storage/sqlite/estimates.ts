import type Database from 'better-sqlite3';
import type { EstimateRows, MeasuredRun, ProgressPoint } from '../port.js';
import type { Db } from './open.js';
import { OutcomePacks } from './outcome-store.js';
import { preparedStatements } from './statements.js';

interface MeasuredRow {
  id: number;
  read: number;
  started_at: number;
  finished_at: number;
  document: string | null;
}

/** What estimates read of past and running runs: measured runs, and the first and last settled records. */
export class SqliteEstimates implements EstimateRows {
  private readonly sql: (text: string) => Database.Statement;
  private readonly packs: OutcomePacks;

  constructor(db: Db) {
    this.sql = preparedStatements(db.$client);
    this.packs = new OutcomePacks(db.$client);
  }

  async measuredRuns(flowId: string, limit: number): Promise<MeasuredRun[]> {
    const rows = this.sql(
      `SELECT r.id, r.read, r.started_at, r.finished_at, v.document FROM runs r INDEXED BY runs_flow_status
         LEFT JOIN flow_versions v ON v.id = r.flow_version_id
         WHERE r.flow_id = ? AND r.status = 'succeeded' AND r.trigger NOT IN ('retry', 'test')
           AND r.started_at IS NOT NULL AND r.finished_at IS NOT NULL
         ORDER BY r.id DESC LIMIT ?`,
    ).all(flowId, limit) as MeasuredRow[];
    return rows.map((r) => ({
      id: String(r.id),
      read: r.read,
      startedAt: r.started_at,
      finishedAt: r.finished_at,
      document: r.document,
    }));
  }

  async failedCount(runId: string): Promise<number | undefined> {
    return this.sql('SELECT failed FROM runs WHERE id = ?').pluck().get(Number(runId)) as number | undefined;
  }

  async lastSettled(runId: string, atMost?: number): Promise<ProgressPoint | undefined> {
    const o = this.packs.last(Number(runId), atMost);
    return o ? { seq: o.seq, at: o.at } : undefined;
  }

  async firstSettled(runId: string): Promise<ProgressPoint | undefined> {
    const o = this.packs.first(Number(runId));
    return o ? { seq: o.seq, at: o.at } : undefined;
  }
}
