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
import { ConflictError, InvalidFlowError, notFound } from '../errors.js';
import { checkSchedule } from '../schedules/cron.js';
import type { FlowRow, FlowRows } from '../storage/port.js';

const iso = (ms: number) => new Date(ms).toISOString();

function summary(row: FlowRow): FlowSummary {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    latestVersion: row.latestVersion,
    publishedVersion: row.publishedVersion,
    enabled: row.enabled,
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

/**
 * Flows and their versions, with their rules, over the stored rows. Every save makes a new version;
 * old versions are kept for the runs that used them.
 */
export class FlowRepository {
  constructor(
    private readonly rows: FlowRows,
    private readonly now: () => number = Date.now,
  ) {}

  /** Flows most recently changed first: those in use, or (`archived`) those deleted while they had runs. */
  async list(archived = false): Promise<FlowSummary[]> {
    return (await this.rows.list(archived)).map(summary);
  }

  /** A new flow with the latest document of this one, named "<name> (copy)", at version 1. */
  async duplicate(id: string): Promise<FlowDetail> {
    const source = await this.get(id);
    return this.create({ ...source.document, name: `${source.name} (copy)` });
  }

  /**
   * Deletes a flow. One that has runs is archived instead: hidden from the list, its schedules and
   * webhooks off, its runs and versions kept, restorable. Refused while one of its runs is unfinished.
   */
  async delete(id: string): Promise<{ archived: boolean }> {
    await this.row(id);
    const active = await this.rows.unfinishedRuns(id);
    if (active > 0)
      throw new ConflictError('flow_running', `flow "${id}" has ${active} unfinished run(s); cancel them first`);
    const hasRuns = await this.rows.hasRuns(id);
    if (hasRuns) await this.rows.setArchived(id, true, this.now());
    else await this.rows.remove(id);
    return { archived: hasRuns };
  }

  /** Brings an archived flow back to the list (its schedules and webhooks stay off until turned on). */
  async restore(id: string): Promise<FlowSummary> {
    const row = await this.row(id);
    if (row.archivedAt === null) throw new ConflictError('not_archived', `flow "${id}" is not archived`);
    await this.rows.setArchived(id, false, this.now());
    return summary(await this.row(id));
  }

  /** Creates a flow from a document that can be read (problems are saved with it as a draft). */
  async create(input: unknown): Promise<FlowDetail> {
    const { flow } = parseFlowDocument(input);
    const id = `flow_${randomBytes(6).toString('hex')}`;
    await this.rows.create({
      id,
      name: flow.name,
      description: flow.description ?? null,
      document: JSON.stringify(flow),
      at: this.now(),
    });
    return this.get(id);
  }

  /** Saves a new version of a flow. */
  async update(id: string, input: unknown): Promise<FlowDetail> {
    const { flow } = parseFlowDocument(input);
    await this.row(id);
    await this.rows.addVersion(id, {
      name: flow.name,
      description: flow.description ?? null,
      document: JSON.stringify(flow),
      at: this.now(),
    });
    return this.get(id);
  }

  /** A flow with the document of its latest version (or of `version`) and that document's problems. */
  async get(id: string, version?: number): Promise<FlowDetail> {
    const row = await this.row(id);
    const wanted = version ?? row.latestVersion;
    const v = await this.rows.version(id, wanted);
    if (!v) throw notFound('version', `${id}@${wanted}`);
    const document = readDocument(v.document);
    return {
      ...summary(row),
      version: v.version,
      versionId: v.id,
      document,
      problems: documentProblems(document),
    };
  }

  /** The flow's versions, newest first. */
  async versions(id: string): Promise<FlowVersionSummary[]> {
    const row = await this.row(id);
    const rows = await this.rows.versions(id);
    return rows.map((v) => ({
      version: v.version,
      versionId: v.id,
      createdAt: iso(v.createdAt),
      published: v.version === row.publishedVersion,
      errors: documentProblems(readDocument(v.document)).filter((p) => p.severity === 'error').length,
    }));
  }

  /** Makes a version (default: the latest) the one schedules and webhooks run; refused while it has errors. */
  async publish(id: string, version?: number): Promise<FlowDetail> {
    const detail = await this.get(id, version);
    const errors = detail.problems.filter((p) => p.severity === 'error');
    if (errors.length) {
      throw new InvalidFlowError(
        `version ${detail.version} has ${errors.length} problem(s) to fix before it can be published: ${errors[0]?.message}`,
        { path: errors[0]?.path, problems: detail.problems },
      );
    }
    await this.rows.set(id, { publishedVersion: detail.version }, this.now());
    return this.get(id, detail.version);
  }

  /** Turns the flow's schedules and webhooks on or off (off disarms its schedules). */
  async setEnabled(id: string, enabled: boolean): Promise<FlowSummary> {
    await this.row(id);
    await this.rows.set(id, { enabled }, this.now());
    return summary(await this.row(id));
  }

  /** Published, enabled flows, with their published documents (what schedules look at). */
  async published(): Promise<{ id: string; version: number; document: Flow; publishedAt: number }[]> {
    return (await this.rows.published()).map((r) => ({ ...r, document: readDocument(r.document) }));
  }

  /** Throws 404 unless the flow exists (cheap: no document is read). */
  async assertExists(id: string): Promise<void> {
    await this.row(id);
  }

  /** Finds a flow by name; used to give file-based runs (CLI, demo) a home and a history. */
  async findByName(name: string): Promise<FlowSummary | undefined> {
    const row = await this.rows.findByName(name);
    return row ? summary(row) : undefined;
  }

  /** Saves a document under the flow of that name: a new flow, a new version, or the same version if unchanged. */
  async saveByName(flow: Flow): Promise<FlowDetail> {
    const existing = await this.findByName(flow.name);
    if (!existing) return this.create(flow);
    const latest = await this.get(existing.id);
    if (JSON.stringify(latest.document) === JSON.stringify(flow)) return latest;
    return this.update(existing.id, flow);
  }

  private async row(id: string): Promise<FlowRow> {
    const row = await this.rows.get(id);
    if (!row) throw notFound('flow', id);
    return row;
  }
}
