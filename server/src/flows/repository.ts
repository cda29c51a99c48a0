import { randomBytes } from 'node:crypto';
import { checkFlowForRun } from '@sluice/engine';
import {
  type Flow,
  type FlowDetail,
  type FlowSummary,
  type FlowVersionSummary,
  migrateFlow,
  type Problem,
} from '@sluice/shared';
import { and, desc, eq, isNotNull, isNull } from 'drizzle-orm';
import { ConflictError, InvalidFlowError, notFound } from '../errors.js';
import { checkSchedule } from '../schedules/cron.js';
import type { Db } from '../storage/sqlite/open.js';
import { flows, flowVersions, scheduleState, watermarks, webhooks } from '../storage/sqlite/schema.js';

type FlowRow = typeof flows.$inferSelect;

const iso = (ms: number) => new Date(ms).toISOString();

function summary(row: FlowRow): FlowSummary {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    latestVersion: row.latestVersion,
    publishedVersion: row.publishedVersion,
    enabled: row.enabled === 1,
    createdAt: iso(row.createdAt),
    updatedAt: iso(row.updatedAt),
    archivedAt: row.archivedAt === null ? null : iso(row.archivedAt),
  };
}

/** Checks a flow document; answers 422 listing every problem when it cannot even be read. */
export function parseFlowDocument(input: unknown): { flow: Flow; problems: Problem[]; ok: boolean } {
  const result = checkFlowForRun(input);
  if (!result.flow) {
    const first = result.problems[0];
    throw new InvalidFlowError(first?.message ?? 'invalid flow document', {
      path: first?.path,
      problems: result.problems,
    });
  }
  const problems = [...result.problems, ...scheduleProblems(result.flow)];
  return { flow: result.flow, problems, ok: !problems.some((p) => p.severity === 'error') };
}

/** A stored document as the current flow format (versions saved by older releases are format 1). */
function readDocument(text: string): Flow {
  return migrateFlow(JSON.parse(text)) as Flow;
}

/** Every problem of a stored document: the flow format's, and the server's (cron and time zone of schedules). */
export function documentProblems(document: Flow): Problem[] {
  return [...checkFlowForRun(document).problems, ...scheduleProblems(document)];
}

function scheduleProblems(flow: Flow): Problem[] {
  const problems: Problem[] = [];
  flow.nodes.forEach((node, i) => {
    if (node.type !== 'schedule') return;
    const { cron, timezone } = node.params as { cron: unknown; timezone: unknown };
    // wrongly typed parameters are already reported by the flow format's own check
    if (typeof cron !== 'string' || typeof timezone !== 'string') return;
    const problem = checkSchedule({ cron, timezone });
    if (problem) {
      const path = `nodes[${i}].params.${problem.path}`;
      problems.push({
        severity: 'error',
        code: 'bad-schedule',
        path,
        message: `${path}: ${problem.message}`,
        nodeId: node.id,
      });
    }
  });
  return problems;
}

/** Flows and their versions. Every save makes a new version; old versions are kept for the runs that used them. */
export class FlowRepository {
  constructor(
    private readonly db: Db,
    private readonly now: () => number = Date.now,
  ) {}

  /** Flows most recently changed first: those in use, or (`archived`) those deleted while they had runs. */
  list(archived = false): FlowSummary[] {
    return this.db
      .select()
      .from(flows)
      .where(archived ? isNotNull(flows.archivedAt) : isNull(flows.archivedAt))
      .orderBy(desc(flows.updatedAt))
      .all()
      .map(summary);
  }

  /** A new flow with the latest document of this one, named "<name> (copy)", at version 1. */
  duplicate(id: string): FlowDetail {
    const source = this.get(id);
    return this.create({ ...source.document, name: `${source.name} (copy)` });
  }

  /**
   * Deletes a flow. One that has runs is archived instead: hidden from the list, its schedules and
   * webhooks off, its runs and versions kept, restorable. Refused while one of its runs is unfinished.
   */
  delete(id: string): { archived: boolean } {
    this.row(id);
    const c = this.db.$client;
    const active = c
      .prepare(`SELECT COUNT(*) FROM runs WHERE flow_id = ? AND status IN ('queued', 'running', 'paused')`)
      .pluck()
      .get(id) as number;
    if (active > 0)
      throw new ConflictError('flow_running', `flow "${id}" has ${active} unfinished run(s); cancel them first`);
    const hasRuns = c.prepare('SELECT 1 FROM runs WHERE flow_id = ? LIMIT 1').get(id) !== undefined;
    const at = this.now();
    this.db.transaction((tx) => {
      tx.update(scheduleState).set({ version: null }).where(eq(scheduleState.flowId, id)).run();
      if (hasRuns) {
        tx.update(flows).set({ archivedAt: at, enabled: 0, updatedAt: at }).where(eq(flows.id, id)).run();
        return;
      }
      tx.delete(scheduleState).where(eq(scheduleState.flowId, id)).run();
      tx.delete(webhooks).where(eq(webhooks.flowId, id)).run();
      tx.delete(watermarks).where(eq(watermarks.flowId, id)).run();
      tx.delete(flowVersions).where(eq(flowVersions.flowId, id)).run();
      tx.delete(flows).where(eq(flows.id, id)).run();
    });
    return { archived: hasRuns };
  }

  /** Brings an archived flow back to the list (its schedules and webhooks stay off until turned on). */
  restore(id: string): FlowSummary {
    const row = this.row(id);
    if (row.archivedAt === null) throw new ConflictError('not_archived', `flow "${id}" is not archived`);
    this.db.update(flows).set({ archivedAt: null, updatedAt: this.now() }).where(eq(flows.id, id)).run();
    return summary(this.row(id));
  }

  /** Creates a flow from a document that can be read (problems are saved with it as a draft). */
  create(input: unknown): FlowDetail {
    const { flow } = parseFlowDocument(input);
    const id = `flow_${randomBytes(6).toString('hex')}`;
    const at = this.now();
    this.db.transaction((tx) => {
      tx.insert(flows)
        .values({
          id,
          name: flow.name,
          description: flow.description ?? null,
          latestVersion: 1,
          createdAt: at,
          updatedAt: at,
        })
        .run();
      tx.insert(flowVersions)
        .values({ flowId: id, version: 1, document: JSON.stringify(flow), createdAt: at })
        .run();
    });
    return this.get(id);
  }

  /** Saves a new version of a flow. */
  update(id: string, input: unknown): FlowDetail {
    const { flow } = parseFlowDocument(input);
    const row = this.row(id);
    const at = this.now();
    const version = row.latestVersion + 1;
    this.db.transaction((tx) => {
      tx.insert(flowVersions)
        .values({ flowId: id, version, document: JSON.stringify(flow), createdAt: at })
        .run();
      tx.update(flows)
        .set({ name: flow.name, description: flow.description ?? null, latestVersion: version, updatedAt: at })
        .where(eq(flows.id, id))
        .run();
    });
    return this.get(id);
  }

  /** A flow with the document of its latest version (or of `version`) and that document's problems. */
  get(id: string, version?: number): FlowDetail {
    const row = this.row(id);
    const wanted = version ?? row.latestVersion;
    const v = this.db
      .select()
      .from(flowVersions)
      .where(and(eq(flowVersions.flowId, id), eq(flowVersions.version, wanted)))
      .get();
    if (!v) throw notFound('version', `${id}@${wanted}`);
    const document = readDocument(v.document);
    return {
      ...summary(row),
      version: v.version,
      versionId: String(v.id),
      document,
      problems: documentProblems(document),
    };
  }

  /** The flow's versions, newest first. */
  versions(id: string): FlowVersionSummary[] {
    const row = this.row(id);
    const rows = this.db
      .select()
      .from(flowVersions)
      .where(eq(flowVersions.flowId, id))
      .orderBy(desc(flowVersions.version))
      .all();
    return rows.map((v) => ({
      version: v.version,
      versionId: String(v.id),
      createdAt: iso(v.createdAt),
      published: v.version === row.publishedVersion,
      errors: documentProblems(readDocument(v.document)).filter((p) => p.severity === 'error').length,
    }));
  }

  /** Makes a version (default: the latest) the one schedules and webhooks run; refused while it has errors. */
  publish(id: string, version?: number): FlowDetail {
    const detail = this.get(id, version);
    const errors = detail.problems.filter((p) => p.severity === 'error');
    if (errors.length) {
      throw new InvalidFlowError(
        `version ${detail.version} has ${errors.length} problem(s) to fix before it can be published: ${errors[0]?.message}`,
        { path: errors[0]?.path, problems: detail.problems },
      );
    }
    const at = this.now();
    this.db.transaction((tx) => {
      tx.update(flows).set({ publishedVersion: detail.version, updatedAt: at }).where(eq(flows.id, id)).run();
    });
    return this.get(id, detail.version);
  }

  /** Turns the flow's schedules and webhooks on or off. */
  setEnabled(id: string, enabled: boolean): FlowSummary {
    this.row(id);
    const at = this.now();
    this.db.transaction((tx) => {
      tx.update(flows)
        .set({ enabled: enabled ? 1 : 0, updatedAt: at })
        .where(eq(flows.id, id))
        .run();
      // disarm its schedules: once on again, they count slots from then, not from while it was off
      if (!enabled) tx.update(scheduleState).set({ version: null }).where(eq(scheduleState.flowId, id)).run();
    });
    return summary(this.row(id));
  }

  /** Published, enabled flows, with their published documents (what schedules look at). */
  published(): { id: string; version: number; document: Flow; publishedAt: number }[] {
    const rows = this.db.$client
      .prepare(
        `SELECT f.id, f.published_version AS version, v.document, v.created_at AS at FROM flows f
           JOIN flow_versions v ON v.flow_id = f.id AND v.version = f.published_version
           WHERE f.enabled = 1 AND f.published_version IS NOT NULL AND f.archived_at IS NULL`,
      )
      .all() as { id: string; version: number; document: string; at: number }[];
    return rows.map((r) => ({
      id: r.id,
      version: r.version,
      document: readDocument(r.document),
      publishedAt: r.at,
    }));
  }

  /** Throws 404 unless the flow exists (cheap: no document is read). */
  assertExists(id: string): void {
    this.row(id);
  }

  /** Finds a flow by name; used to give file-based runs (CLI, demo) a home and a history. */
  findByName(name: string): FlowSummary | undefined {
    const row = this.db
      .select()
      .from(flows)
      .where(and(eq(flows.name, name), isNull(flows.archivedAt)))
      .orderBy(flows.createdAt)
      .get();
    return row ? summary(row) : undefined;
  }

  /** Saves a document under the flow of that name: a new flow, a new version, or the same version if unchanged. */
  saveByName(flow: Flow): FlowDetail {
    const existing = this.findByName(flow.name);
    if (!existing) return this.create(flow);
    const latest = this.get(existing.id);
    if (JSON.stringify(latest.document) === JSON.stringify(flow)) return latest;
    return this.update(existing.id, flow);
  }

  private row(id: string): FlowRow {
    const row = this.db.select().from(flows).where(eq(flows.id, id)).get();
    if (!row) throw notFound('flow', id);
    return row;
  }
}
