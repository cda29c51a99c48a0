import { and, eq } from 'drizzle-orm';
import { ConflictError, notFound } from '../../errors.js';
import type { HookRow, HookRows } from '../port.js';
import type { PgDb } from './db.js';
import { FOREIGN_KEY_VIOLATION, pgErrorCode, UNIQUE_VIOLATION } from './errors.js';
import { webhooks } from './schema.js';

const columns = { id: webhooks.id, flowId: webhooks.flowId, nodeId: webhooks.nodeId, secret: webhooks.secret };

/** Webhook addresses and their sealed secrets in PostgreSQL. */
export class PgHookRows implements HookRows {
  constructor(private readonly db: PgDb) {}

  async get(hookId: string): Promise<HookRow | undefined> {
    const [row] = await this.db.select(columns).from(webhooks).where(eq(webhooks.id, hookId));
    return row;
  }

  async find(flowId: string, nodeId: string): Promise<HookRow | undefined> {
    const [row] = await this.db
      .select(columns)
      .from(webhooks)
      .where(and(eq(webhooks.flowId, flowId), eq(webhooks.nodeId, nodeId)));
    return row;
  }

  async insert(hook: HookRow & { createdAt: number }): Promise<void> {
    try {
      await this.db.insert(webhooks).values({
        id: hook.id,
        flowId: hook.flowId,
        nodeId: hook.nodeId,
        secret: hook.secret,
        createdAt: hook.createdAt,
      });
    } catch (err) {
      const code = pgErrorCode(err);
      // another process gave the node its hook first: the caller reads that one (`find`)
      if (code === UNIQUE_VIOLATION) {
        throw new ConflictError('exists', `node "${hook.nodeId}" of flow "${hook.flowId}" already has a webhook`);
      }
      if (code === FOREIGN_KEY_VIOLATION) throw notFound('flow', hook.flowId);
      throw err;
    }
  }

  async setSecret(hookId: string, sealedSecret: string): Promise<void> {
    const updated = await this.db
      .update(webhooks)
      .set({ secret: sealedSecret })
      .where(eq(webhooks.id, hookId))
      .returning({ id: webhooks.id });
    if (updated.length === 0) throw notFound('webhook', hookId);
  }
}
