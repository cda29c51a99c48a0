import { and, asc, count, desc, eq, inArray, isNotNull, isNull, sql } from 'drizzle-orm';
import { ConflictError, notFound } from '../../errors.js';
import type { FlowRow, FlowRows, FlowVersionRow, PublishedFlowRow } from '../port.js';
import type { PgDb } from './db.js';
import { FOREIGN_KEY_VIOLATION, pgErrorCode, UNIQUE_VIOLATION } from './errors.js';
import {
  alertDeliveries,
  alertRules,
  flows,
  flowVersions,
  runs,
  scheduleState,
  watermarks,
  webhooks,
} from './schema.js';

const UNFINISHED = ['queued', 'running', 'paused'] as const;

function versionRow(v: typeof flowVersions.$inferSelect): FlowVersionRow {
  return { id: String(v.id), flowId: v.flowId, version: v.version, document: v.document, createdAt: v.createdAt };
}

/**
 * Flows and their versions in PostgreSQL. A new version's number is taken by the update that raises
 * the flow's latest version, in the statement that stores the version: the row lock serialises
 * concurrent saves, so each gets the next number and none takes one twice.
 */
export class PgFlowRows implements FlowRows {
  constructor(private readonly db: PgDb) {}

  async list(archived: boolean): Promise<FlowRow[]> {
    return this.db
      .select()
      .from(flows)
      .where(archived ? isNotNull(flows.archivedAt) : isNull(flows.archivedAt))
      .orderBy(desc(flows.updatedAt), asc(flows.id));
  }

  async get(id: string): Promise<FlowRow | undefined> {
    const [row] = await this.db.select().from(flows).where(eq(flows.id, id));
    return row;
  }

  async findByName(name: string): Promise<FlowRow | undefined> {
    const [row] = await this.db
      .select()
      .from(flows)
      .where(and(eq(flows.name, name), isNull(flows.archivedAt)))
      .orderBy(asc(flows.createdAt), asc(flows.id))
      .limit(1);
    return row;
  }

  async version(flowId: string, version: number): Promise<FlowVersionRow | undefined> {
    const [row] = await this.db
      .select()
      .from(flowVersions)
      .where(and(eq(flowVersions.flowId, flowId), eq(flowVersions.version, version)));
    return row ? versionRow(row) : undefined;
  }

  async versions(flowId: string): Promise<FlowVersionRow[]> {
    const rows = await this.db
      .select()
      .from(flowVersions)
      .where(eq(flowVersions.flowId, flowId))
      .orderBy(desc(flowVersions.version));
    return rows.map(versionRow);
  }

  async create(flow: {
    id: string;
    name: string;
    description: string | null;
    document: string;
    at: number;
  }): Promise<void> {
    try {
      // the flow and its first version in one statement
      await this.db.execute(sql`
        WITH created AS (
          INSERT INTO flows (id, name, description, latest_version, created_at, updated_at)
          VALUES (${flow.id}, ${flow.name}, ${flow.description}, 1, ${flow.at}, ${flow.at})
          RETURNING id
        )
        INSERT INTO flow_versions (flow_id, version, document, created_at)
        SELECT id, 1, ${flow.document}, ${flow.at} FROM created`);
    } catch (err) {
      if (pgErrorCode(err) === UNIQUE_VIOLATION) throw new ConflictError('exists', `flow "${flow.id}" already exists`);
      throw err;
    }
  }

  async addVersion(
    flowId: string,
    version: { name: string; description: string | null; document: string; at: number },
  ): Promise<number> {
    const result = await this.db.execute<{ version: number }>(sql`
      WITH raised AS (
        UPDATE flows SET latest_version = latest_version + 1, name = ${version.name},
          description = ${version.description}, updated_at = ${version.at}
        WHERE id = ${flowId}
        RETURNING id, latest_version
      )
      INSERT INTO flow_versions (flow_id, version, document, created_at)
      SELECT id, latest_version, ${version.document}, ${version.at} FROM raised
      RETURNING version`);
    const row = result.rows[0];
    if (!row) throw notFound('flow', flowId);
    return Number(row.version);
  }

  async set(flowId: string, patch: { publishedVersion?: number; enabled?: boolean }, at: number): Promise<void> {
    const changes: Partial<typeof flows.$inferInsert> = { updatedAt: at };
    if (patch.publishedVersion !== undefined) changes.publishedVersion = patch.publishedVersion;
    if (patch.enabled !== undefined) changes.enabled = patch.enabled;
    await this.db.transaction(async (tx) => {
      const [was] = await tx.select({ enabled: flows.enabled }).from(flows).where(eq(flows.id, flowId)).for('update');
      const updated = await tx.update(flows).set(changes).where(eq(flows.id, flowId)).returning({ id: flows.id });
      if (updated.length === 0) throw notFound('flow', flowId);
      // disarm its schedules, turned off and again turned on (a tick that read the flow as on just
      // before it went off may have armed them since): once on, they count slots from then, not from
      // while it was off
      if (patch.enabled === false || (patch.enabled === true && was?.enabled === false)) {
        await tx.update(scheduleState).set({ version: null }).where(eq(scheduleState.flowId, flowId));
      }
    });
  }

  async setArchived(flowId: string, archived: boolean, at: number): Promise<void> {
    await this.db.transaction(async (tx) => {
      const updated = await tx
        .update(flows)
        .set(archived ? { archivedAt: at, enabled: false, updatedAt: at } : { archivedAt: null, updatedAt: at })
        .where(eq(flows.id, flowId))
        .returning({ id: flows.id });
      if (updated.length === 0) throw notFound('flow', flowId);
      if (archived) await tx.update(scheduleState).set({ version: null }).where(eq(scheduleState.flowId, flowId));
    });
  }

  async unfinishedRuns(flowId: string): Promise<number> {
    const [row] = await this.db
      .select({ n: count() })
      .from(runs)
      .where(and(eq(runs.flowId, flowId), inArray(runs.status, [...UNFINISHED])));
    return row?.n ?? 0;
  }

  async hasRuns(flowId: string): Promise<boolean> {
    const rows = await this.db.select({ id: runs.id }).from(runs).where(eq(runs.flowId, flowId)).limit(1);
    return rows.length > 0;
  }

  async remove(flowId: string): Promise<void> {
    try {
      await this.db.transaction(async (tx) => {
        await tx.delete(scheduleState).where(eq(scheduleState.flowId, flowId));
        await tx.delete(webhooks).where(eq(webhooks.flowId, flowId));
        await tx.delete(alertDeliveries).where(eq(alertDeliveries.flowId, flowId));
        await tx.delete(alertRules).where(eq(alertRules.flowId, flowId));
        await tx.delete(watermarks).where(eq(watermarks.flowId, flowId));
        await tx.delete(flowVersions).where(eq(flowVersions.flowId, flowId));
        await tx.delete(flows).where(eq(flows.id, flowId));
      });
    } catch (err) {
      // a run started for it meanwhile (by another process): its runs keep it
      if (pgErrorCode(err) === FOREIGN_KEY_VIOLATION) {
        throw new ConflictError('flow_has_runs', `flow "${flowId}" has runs; it can only be archived`);
      }
      throw err;
    }
  }

  async published(): Promise<PublishedFlowRow[]> {
    return this.db
      .select({
        id: flows.id,
        version: flowVersions.version,
        document: flowVersions.document,
        publishedAt: flowVersions.createdAt,
      })
      .from(flows)
      .innerJoin(flowVersions, and(eq(flowVersions.flowId, flows.id), eq(flowVersions.version, flows.publishedVersion)))
      .where(and(eq(flows.enabled, true), isNotNull(flows.publishedVersion), isNull(flows.archivedAt)))
      .orderBy(asc(flows.id));
  }
}
