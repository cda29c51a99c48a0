import { randomBytes } from 'node:crypto';
import { checkFlowForRun } from '@sluice/engine';
import type { Flow, FlowDetail, FlowSummary } from '@sluice/shared';
import { and, desc, eq } from 'drizzle-orm';
import type { Db } from '../db/open.js';
import { flows, flowVersions } from '../db/schema.js';
import { ApiError, notFound } from '../http/errors.js';

type FlowRow = typeof flows.$inferSelect;

const iso = (ms: number) => new Date(ms).toISOString();

function summary(row: FlowRow): FlowSummary {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    latestVersion: row.latestVersion,
    createdAt: iso(row.createdAt),
    updatedAt: iso(row.updatedAt),
  };
}

/** Checks a flow document; answers 422 listing every problem when it cannot even be read. */
export function parseFlowDocument(input: unknown): { flow: Flow; problems: FlowDetail['problems']; ok: boolean } {
  const result = checkFlowForRun(input);
  if (!result.flow) {
    const first = result.problems[0];
    throw new ApiError(422, 'invalid_flow', first?.message ?? 'invalid flow document', first?.path, result.problems);
  }
  return { flow: result.flow, problems: result.problems, ok: result.ok };
}

/** Flows and their versions. Every save makes a new version; old versions are kept for the runs that used them. */
export class FlowRepository {
  constructor(
    private readonly db: Db,
    private readonly now: () => number = Date.now,
  ) {}

  list(): FlowSummary[] {
    return this.db.select().from(flows).orderBy(desc(flows.updatedAt)).all().map(summary);
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
    const document = JSON.parse(v.document) as Flow;
    return { ...summary(row), versionId: String(v.id), document, problems: checkFlowForRun(document).problems };
  }

  /** Throws 404 unless the flow exists (cheap: no document is read). */
  assertExists(id: string): void {
    this.row(id);
  }

  /** Finds a flow by name; used to give file-based runs (CLI, demo) a home and a history. */
  findByName(name: string): FlowSummary | undefined {
    const row = this.db.select().from(flows).where(eq(flows.name, name)).orderBy(flows.createdAt).get();
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
