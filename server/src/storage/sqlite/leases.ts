import { hostname } from 'node:os';
import type Database from 'better-sqlite3';
import type { ControlVerb, LeaseStore, RunCandidate } from '../port.js';
import type { Db } from './open.js';

/**
 * Claims on runs in SQLite. A run whose lease has expired (or whose holder, on this host, is no
 * longer alive) may be claimed by another process. Every claim is one conditional UPDATE that also
 * raises the run's lease epoch, so two processes sharing the database never both take a run, and the
 * one that lost it carries an epoch the run store refuses.
 */
export class SqliteLeases implements LeaseStore {
  readonly owner: string;
  private readonly c: Database.Database;

  constructor(
    db: Db,
    private readonly now: () => number = Date.now,
    readonly ttlMs = 15_000,
    /** Who this process is in the leases it holds; tests stand for other processes with their own. */
    owner?: string,
  ) {
    this.c = db.$client;
    this.owner = owner ?? `${hostname()}/${process.pid}/${Math.random().toString(36).slice(2, 8)}`;
  }

  /** See `LeaseStore.claim`. */
  async claim(runId: string, statuses: readonly string[], perFlow?: number): Promise<number | null> {
    if (perFlow === undefined) return this.claimNow(runId, statuses, undefined);
    // one write transaction from the start: the count of the flow's runs and the claim see the same database
    return this.c.transaction(() => this.claimNow(runId, statuses, perFlow)).immediate();
  }

  private claimNow(runId: string, statuses: readonly string[], perFlow: number | undefined): number | null {
    const now = this.now();
    const row = this.c
      .prepare('SELECT status, flow_id, lease_owner, lease_expires_at FROM runs WHERE id = ?')
      .get(Number(runId)) as
      | { status: string; flow_id: string | null; lease_owner: string | null; lease_expires_at: number | null }
      | undefined;
    if (!row || !statuses.includes(row.status)) return null;
    if (perFlow !== undefined && row.status === 'queued' && row.flow_id !== null) {
      const others = this.c
        .prepare(
          `SELECT status, lease_owner, lease_expires_at FROM runs WHERE flow_id = ? AND id != ?
             AND status IN ('queued', 'running', 'paused')`,
        )
        .all(row.flow_id, Number(runId)) as {
        status: string;
        lease_owner: string | null;
        lease_expires_at: number | null;
      }[];
      const held = (r: { lease_owner: string | null; lease_expires_at: number | null }) =>
        r.lease_owner !== null &&
        (r.lease_expires_at ?? 0) > now &&
        (r.lease_owner === this.owner || isAlive(r.lease_owner));
      if (others.filter((r) => r.status !== 'queued' || held(r)).length >= perFlow) return null;
    }
    if (
      row.lease_owner &&
      row.lease_owner !== this.owner &&
      (row.lease_expires_at ?? 0) > now &&
      isAlive(row.lease_owner)
    ) {
      return null;
    }
    const taken = this.c
      .prepare(
        `UPDATE runs SET lease_owner = ?, executor = ?, lease_expires_at = ?, lease_epoch = lease_epoch + 1 WHERE id = ? AND status = ?
           AND (lease_owner IS ? OR lease_owner IS NULL OR lease_expires_at IS NULL OR lease_expires_at <= ? OR lease_owner = ?)
         RETURNING lease_epoch`,
      )
      .pluck()
      .get(this.owner, this.owner, now + this.ttlMs, Number(runId), row.status, row.lease_owner, now, this.owner) as
      | number
      | undefined;
    return taken ?? null;
  }

  /** Extends the leases this process holds on the given runs; returns those it no longer holds. */
  async renew(runIds: readonly string[]): Promise<string[]> {
    if (runIds.length === 0) return [];
    const stmt = this.c.prepare('UPDATE runs SET lease_expires_at = ? WHERE id = ? AND lease_owner = ?');
    const until = this.now() + this.ttlMs;
    return this.c.transaction(() => runIds.filter((id) => stmt.run(until, Number(id), this.owner).changes === 0))();
  }

  async release(runId: string): Promise<void> {
    this.c
      .prepare('UPDATE runs SET lease_owner = NULL, lease_expires_at = NULL WHERE id = ? AND lease_owner = ?')
      .run(Number(runId), this.owner);
  }

  async requestControl(runId: string, verb: ControlVerb, statuses: readonly string[]): Promise<boolean> {
    const id = Number(runId);
    if (!Number.isSafeInteger(id)) return false;
    const asked = this.c
      .prepare(`UPDATE runs SET control = ? WHERE id = ? AND status IN (${statuses.map(() => '?').join(', ')})`)
      .run(verb, id, ...statuses);
    return asked.changes > 0;
  }

  async takeControls(runIds: readonly string[]): Promise<{ runId: string; verb: ControlVerb }[]> {
    if (runIds.length === 0) return [];
    const asked = this.c
      .prepare('SELECT control FROM runs WHERE id = ? AND lease_owner = ? AND control IS NOT NULL')
      .pluck();
    const clear = this.c.prepare('UPDATE runs SET control = NULL WHERE id = ?');
    return this.c.transaction(() =>
      runIds.flatMap((runId) => {
        const verb = asked.get(Number(runId), this.owner) as ControlVerb | undefined;
        if (!verb) return [];
        clear.run(Number(runId));
        return [{ runId, verb }];
      }),
    )();
  }

  /** Runs that need an executor: queued ones, and running or paused ones nobody live holds, oldest first. */
  async candidates(limit: number): Promise<RunCandidate[]> {
    const rows = this.c
      .prepare(
        `SELECT id, status, flow_id, lease_owner, lease_expires_at FROM runs
         WHERE status IN ('queued', 'running', 'paused') AND (lease_owner IS NULL OR lease_owner != ?)
         ORDER BY id LIMIT ?`,
      )
      .all(this.owner, limit * 4 + 16) as {
      id: number;
      status: string;
      flow_id: string | null;
      lease_owner: string | null;
      lease_expires_at: number | null;
    }[];
    const now = this.now();
    return rows
      .filter((r) => !r.lease_owner || (r.lease_expires_at ?? 0) <= now || !isAlive(r.lease_owner))
      .slice(0, limit)
      .map((r) => ({ id: String(r.id), status: r.status, flowId: r.flow_id }));
  }
}

/** Whether the process named in a lease may still be alive: checkable only on this host. */
function isAlive(owner: string): boolean {
  const [host, pid] = owner.split('/');
  if (host !== hostname()) return true;
  if (Number(pid) === process.pid) return false; // an earlier process that had our pid, with another lease id
  try {
    process.kill(Number(pid), 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
