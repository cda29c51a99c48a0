import { userInfo } from 'node:os';
import type { AuditEntry, AuditOutcome, Page } from '@sluice/shared';
import type { Actor } from '../auth/actor.js';
import type { AuditQuery, AuditRow, AuditRows } from '../storage/port.js';

const DAY_MS = 86_400_000;

/** One thing someone did, as the audit log is told it. */
export interface AuditRecord {
  actor: Actor;
  /** The client address of the request; absent outside the API. */
  address?: string | null;
  action: string;
  objectType: string;
  objectId?: string | null;
  /** What changed, in short. Never a secret: keys that name one are dropped all the same. */
  summary?: Record<string, unknown> | null;
  outcome?: AuditOutcome;
  /** The error code of a refused or failed attempt. */
  error?: string | null;
}

/** The command line acting on the data folder: named after the system user who ran it, when known. */
export function cliActor(): Actor {
  let user: string | undefined;
  try {
    user = userInfo().username;
  } catch {
    // a user without an entry in the system's user list (some containers)
  }
  return { kind: 'cli', id: 'cli', name: user ? `command line (${user})` : 'command line' };
}

/** Keys a summary never keeps, whatever a caller put there: a second line of defence for secrets. */
const SECRET_KEY = /secret|password|passphrase|token|authorization|api[-_]?key|credential|cookie/i;

/** The longest object id and error code kept (an id in a refused request's path may be anything). */
const TEXT_MAX = 200;

/**
 * The audit log as the rest of the server uses it: the API's recorder (`http/audit.ts`), the command
 * line (a backup) and anything else that changes something on someone's behalf call `record`.
 */
export class AuditLog {
  constructor(
    private readonly rows: AuditRows,
    private readonly now: () => number = Date.now,
  ) {}

  async record(r: AuditRecord): Promise<void> {
    await this.rows.append({
      at: this.now(),
      actorKind: r.actor.kind,
      actorId: r.actor.id,
      actorName: r.actor.name,
      address: r.address ?? null,
      action: r.action,
      objectType: r.objectType,
      objectId: r.objectId ? r.objectId.slice(0, TEXT_MAX) : null,
      summary: r.summary ? JSON.stringify(withoutSecrets(r.summary)) : null,
      outcome: r.outcome ?? 'ok',
      error: r.error ? r.error.slice(0, TEXT_MAX) : null,
    });
  }

  /** A page of entries, newest first; `nextCursor` is the last entry's id while more may follow. */
  async list(q: AuditQuery): Promise<Page<AuditEntry>> {
    const rows = await this.rows.list(q);
    const last = rows.at(-1);
    return { items: rows.map(entry), nextCursor: rows.length === q.limit && last ? last.id : null };
  }

  /** Removes the entries older than `days`; answers how many. */
  prune(days: number, now = this.now()): Promise<number> {
    return this.rows.prune(now - days * DAY_MS);
  }
}

/** The summary with every key that names a secret left out, at any depth. */
export function withoutSecrets(value: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (SECRET_KEY.test(k)) continue;
    out[k] = v && typeof v === 'object' && !Array.isArray(v) ? withoutSecrets(v as Record<string, unknown>) : v;
  }
  return out;
}

function entry(r: AuditRow): AuditEntry {
  return {
    id: r.id,
    at: new Date(r.at).toISOString(),
    actor: { kind: r.actorKind, id: r.actorId, name: r.actorName },
    address: r.address,
    action: r.action,
    objectType: r.objectType,
    objectId: r.objectId,
    summary: r.summary ? (JSON.parse(r.summary) as Record<string, unknown>) : null,
    outcome: r.outcome as AuditOutcome,
    error: r.error,
  };
}
