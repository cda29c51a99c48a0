import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { ControlVerb, LeaseStore, RunCandidate } from '../port.js';
import { toId } from '../run-views.js';
import type { PgDb } from './db.js';
import { changes, DB_NOW_MS, type Queryable, row, rows, transaction } from './rows.js';

/** The advisory lock class (with the flow's hash) that puts claims of one flow's runs in line. */
const FLOW_CLAIMS_LOCK = 0x736c7566;

/** How long a lease holds unless renewed, by default. */
export const LEASE_TTL_MS = 15_000;

/** A run (the table under `alias`) nobody live holds: no owner, or a lease past its expiry by the database's clock. */
const free = (alias = 'runs') =>
  `(${alias}.lease_owner IS NULL OR ${alias}.lease_expires_at IS NULL OR ${alias}.lease_expires_at <= ${DB_NOW_MS})`;

/**
 * Claims on runs in PostgreSQL, for many processes on many hosts sharing the database. Expiry is
 * judged by the database's clock alone (the hosts' clocks may disagree, and a process cannot tell
 * whether one on another host is alive), so a run whose holder died is taken over once its lease
 * expires. Every claim is one statement that locks the run's row (`FOR UPDATE SKIP LOCKED`: a run
 * whose row another process has locked at that moment, claiming it or writing to it, is skipped
 * rather than waited for; the next scan finds it taken, or free again), checks it is free, and raises
 * its lease epoch, so two processes never both take a run and the one that lost it carries an epoch
 * the run store refuses.
 */
export class PgLeases implements LeaseStore {
  readonly owner: string;
  private readonly pool: PgDb['$client'];

  constructor(
    db: PgDb,
    readonly ttlMs = LEASE_TTL_MS,
    /** Who this process is in the leases it holds; tests stand for other processes with their own. */
    owner?: string,
  ) {
    this.pool = db.$client;
    this.owner = owner ?? `${hostname()}/${process.pid}/${randomBytes(4).toString('hex')}`;
  }

  async claim(runId: string, statuses: readonly string[], perFlow?: number): Promise<number | null> {
    if (perFlow === undefined || !statuses.includes('queued')) return this.claimOn(this.pool, runId, statuses);
    return transaction(this.pool, async (c) => {
      const run = await row<{ flow_id: string | null; status: string }>(
        c,
        'SELECT flow_id, status FROM runs WHERE id = $1',
        [toId(runId)],
      );
      if (run?.status !== 'queued' || run.flow_id === null) return this.claimOn(c, runId, statuses);
      // the flow's claims one after another, whatever the process: the count below sees the last one's
      await c.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [FLOW_CLAIMS_LOCK, run.flow_id]);
      const busy = await row<{ n: number }>(
        c,
        `SELECT count(*)::int AS n FROM runs a WHERE a.flow_id = $1 AND a.id <> $2
           AND a.status IN ('queued', 'running', 'paused') AND (a.status <> 'queued' OR NOT ${free('a')})`,
        [run.flow_id, toId(runId)],
      );
      if ((busy?.n ?? 0) >= perFlow) return null;
      return this.claimOn(c, runId, statuses);
    });
  }

  private async claimOn(on: Queryable, runId: string, statuses: readonly string[]): Promise<number | null> {
    const taken = await row<{ lease_epoch: number }>(
      on,
      `UPDATE runs r SET lease_owner = $1, executor = $1, lease_expires_at = ${DB_NOW_MS} + $2, lease_epoch = r.lease_epoch + 1
         WHERE r.id = (SELECT id FROM runs WHERE id = $3 AND status = ANY($4::text[])
                         AND (${free()} OR lease_owner = $1)
                       FOR UPDATE SKIP LOCKED)
         RETURNING r.lease_epoch`,
      [this.owner, this.ttlMs, toId(runId), statuses],
    );
    return taken?.lease_epoch ?? null;
  }

  async renew(runIds: readonly string[]): Promise<string[]> {
    // an id that cannot be a run's is held by nobody: reported lost, not sent
    const ids = runIds.map(Number).filter((n) => Number.isSafeInteger(n) && n > 0);
    if (ids.length === 0) return [...runIds];
    const renewed = await rows<{ id: number }>(
      this.pool,
      `UPDATE runs SET lease_expires_at = ${DB_NOW_MS} + $1 WHERE id = ANY($2::bigint[]) AND lease_owner = $3 RETURNING id`,
      [this.ttlMs, ids, this.owner],
    );
    const kept = new Set(renewed.map((r) => String(r.id)));
    return runIds.filter((id) => !kept.has(id));
  }

  async release(runId: string): Promise<void> {
    await changes(
      this.pool,
      'UPDATE runs SET lease_owner = NULL, lease_expires_at = NULL WHERE id = $1 AND lease_owner = $2',
      [toId(runId), this.owner],
    );
  }

  async requestControl(runId: string, verb: ControlVerb, statuses: readonly string[]): Promise<boolean> {
    const id = Number(runId);
    if (!Number.isSafeInteger(id) || id <= 0) return false;
    // not the row lock a writer or a claim holds for long: a plain update waits its turn, as any write
    return (
      (await changes(this.pool, 'UPDATE runs SET control = $1 WHERE id = $2 AND status = ANY($3::text[])', [
        verb,
        id,
        statuses,
      ])) > 0
    );
  }

  async takeControls(runIds: readonly string[]): Promise<{ runId: string; verb: ControlVerb }[]> {
    const ids = runIds.map(Number).filter((n) => Number.isSafeInteger(n) && n > 0);
    if (ids.length === 0) return [];
    const taken = await rows<{ id: number; control: ControlVerb }>(
      this.pool,
      `UPDATE runs r SET control = NULL FROM (SELECT id, control FROM runs WHERE id = ANY($1::bigint[])
           AND lease_owner = $2 AND control IS NOT NULL FOR UPDATE) c
         WHERE r.id = c.id RETURNING r.id, c.control`,
      [ids, this.owner],
    );
    return taken.map((t) => ({ runId: String(t.id), verb: t.control }));
  }

  /**
   * Runs that need an executor, oldest first: queued ones, and running or paused ones nobody live
   * holds; never those this process holds. Rows a concurrent claim has locked are skipped (`FOR KEY
   * SHARE SKIP LOCKED`: the weakest lock, which a claim's `FOR UPDATE` conflicts with but the run
   * store's updates of a run's counts do not, so listing never holds up a writer).
   */
  async candidates(limit: number): Promise<RunCandidate[]> {
    const found = await rows<{ id: number; status: string; flow_id: string | null }>(
      this.pool,
      `SELECT id, status, flow_id FROM runs
         WHERE status IN ('queued', 'running', 'paused') AND (lease_owner IS NULL OR lease_owner <> $1) AND ${free()}
         ORDER BY id LIMIT $2
         FOR KEY SHARE SKIP LOCKED`,
      [this.owner, limit],
    );
    return found.map((r) => ({ id: String(r.id), status: r.status, flowId: r.flow_id }));
  }
}
