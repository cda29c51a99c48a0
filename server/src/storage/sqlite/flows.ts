import { and, desc, eq, isNotNull, isNull } from 'drizzle-orm';
import { notFound } from '../../errors.js';
import type { FlowRow, FlowRows, FlowVersionRow, PublishedFlowRow } from '../port.js';
import type { Db } from './open.js';
import { alertDeliveries, alertRules, flows, flowVersions, scheduleState, watermarks, webhooks } from './schema.js';

type Stored = typeof flows.$inferSelect;

const row = (r: Stored): FlowRow => ({ ...r, enabled: r.enabled === 1 });

const versionRow = (v: typeof flowVersions.$inferSelect): FlowVersionRow => ({ ...v, id: String(v.id) });

/** Flows and their versions in SQLite; each change that touches more than one row is one transaction. */
export class SqliteFlows implements FlowRows {
  constructor(private readonly db: Db) {}

  async list(archived: boolean): Promise<FlowRow[]> {
    return this.db
      .select()
      .from(flows)
      .where(archived ? isNotNull(flows.archivedAt) : isNull(flows.archivedAt))
      .orderBy(desc(flows.updatedAt))
      .all()
      .map(row);
  }

  async get(id: string): Promise<FlowRow | undefined> {
    const r = this.db.select().from(flows).where(eq(flows.id, id)).get();
    return r ? row(r) : undefined;
  }

  async findByName(name: string): Promise<FlowRow | undefined> {
    const r = this.db
      .select()
      .from(flows)
      .where(and(eq(flows.name, name), isNull(flows.archivedAt)))
      .orderBy(flows.createdAt)
      .get();
    return r ? row(r) : undefined;
  }

  async version(flowId: string, version: number): Promise<FlowVersionRow | undefined> {
    const v = this.db
      .select()
      .from(flowVersions)
      .where(and(eq(flowVersions.flowId, flowId), eq(flowVersions.version, version)))
      .get();
    return v ? versionRow(v) : undefined;
  }

  async versions(flowId: string): Promise<FlowVersionRow[]> {
    return this.db
      .select()
      .from(flowVersions)
      .where(eq(flowVersions.flowId, flowId))
      .orderBy(desc(flowVersions.version))
      .all()
      .map(versionRow);
  }

  async create(flow: { id: string; name: string; description: string | null; document: string; at: number }) {
    const { id, at } = flow;
    this.db.transaction((tx) => {
      tx.insert(flows)
        .values({ id, name: flow.name, description: flow.description, latestVersion: 1, createdAt: at, updatedAt: at })
        .run();
      tx.insert(flowVersions).values({ flowId: id, version: 1, document: flow.document, createdAt: at }).run();
    });
  }

  async addVersion(
    flowId: string,
    v: { name: string; description: string | null; document: string; at: number },
  ): Promise<number> {
    // read and raised in one transaction: two saves never take the same number
    return this.db.transaction((tx) => {
      const current = tx.select({ latest: flows.latestVersion }).from(flows).where(eq(flows.id, flowId)).get();
      if (!current) throw notFound('flow', flowId);
      const version = current.latest + 1;
      tx.insert(flowVersions).values({ flowId, version, document: v.document, createdAt: v.at }).run();
      tx.update(flows)
        .set({ name: v.name, description: v.description, latestVersion: version, updatedAt: v.at })
        .where(eq(flows.id, flowId))
        .run();
      return version;
    });
  }

  async set(flowId: string, patch: { publishedVersion?: number; enabled?: boolean }, at: number): Promise<void> {
    this.db.transaction((tx) => {
      const was = tx.select({ enabled: flows.enabled }).from(flows).where(eq(flows.id, flowId)).get();
      tx.update(flows)
        .set({
          updatedAt: at,
          ...(patch.publishedVersion !== undefined ? { publishedVersion: patch.publishedVersion } : {}),
          ...(patch.enabled !== undefined ? { enabled: patch.enabled ? 1 : 0 } : {}),
        })
        .where(eq(flows.id, flowId))
        .run();
      // disarm its schedules, turned off and again turned on (a tick that read the flow as on just
      // before it went off may have armed them since): once on, they count slots from then, not from
      // while it was off
      if (patch.enabled === false || (patch.enabled === true && was?.enabled === 0)) this.disarm(tx, flowId);
    });
  }

  async setArchived(flowId: string, archived: boolean, at: number): Promise<void> {
    this.db.transaction((tx) => {
      if (!archived) {
        tx.update(flows).set({ archivedAt: null, updatedAt: at }).where(eq(flows.id, flowId)).run();
        return;
      }
      this.disarm(tx, flowId);
      tx.update(flows).set({ archivedAt: at, enabled: 0, updatedAt: at }).where(eq(flows.id, flowId)).run();
    });
  }

  async unfinishedRuns(flowId: string): Promise<number> {
    return this.db.$client
      .prepare(`SELECT COUNT(*) FROM runs WHERE flow_id = ? AND status IN ('queued', 'running', 'paused')`)
      .pluck()
      .get(flowId) as number;
  }

  async hasRuns(flowId: string): Promise<boolean> {
    return this.db.$client.prepare('SELECT 1 FROM runs WHERE flow_id = ? LIMIT 1').get(flowId) !== undefined;
  }

  async remove(flowId: string): Promise<void> {
    this.db.transaction((tx) => {
      tx.delete(scheduleState).where(eq(scheduleState.flowId, flowId)).run();
      tx.delete(webhooks).where(eq(webhooks.flowId, flowId)).run();
      tx.delete(alertDeliveries).where(eq(alertDeliveries.flowId, flowId)).run();
      tx.delete(alertRules).where(eq(alertRules.flowId, flowId)).run();
      tx.delete(watermarks).where(eq(watermarks.flowId, flowId)).run();
      tx.delete(flowVersions).where(eq(flowVersions.flowId, flowId)).run();
      tx.delete(flows).where(eq(flows.id, flowId)).run();
    });
  }

  async published(): Promise<PublishedFlowRow[]> {
    return this.db.$client
      .prepare(
        `SELECT f.id, f.published_version AS version, v.document, v.created_at AS publishedAt FROM flows f
           JOIN flow_versions v ON v.flow_id = f.id AND v.version = f.published_version
           WHERE f.enabled = 1 AND f.published_version IS NOT NULL AND f.archived_at IS NULL`,
      )
      .all() as PublishedFlowRow[];
  }

  private disarm(tx: Pick<Db, 'update'>, flowId: string): void {
    tx.update(scheduleState).set({ version: null }).where(eq(scheduleState.flowId, flowId)).run();
  }
}
