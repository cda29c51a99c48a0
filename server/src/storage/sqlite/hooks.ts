import type Database from 'better-sqlite3';
import type { HookRow, HookRows } from '../port.js';
import type { Db } from './open.js';

interface Row {
  id: string;
  flow_id: string;
  node_id: string;
  secret: string;
}

const hook = (r: Row): HookRow => ({ id: r.id, flowId: r.flow_id, nodeId: r.node_id, secret: r.secret });

/** Webhook hooks (id and sealed secret per flow and webhook node), in `webhooks`. */
export class SqliteHooks implements HookRows {
  private readonly c: Database.Database;

  constructor(db: Db) {
    this.c = db.$client;
  }

  async get(hookId: string): Promise<HookRow | undefined> {
    const r = this.c.prepare('SELECT id, flow_id, node_id, secret FROM webhooks WHERE id = ?').get(hookId) as
      | Row
      | undefined;
    return r ? hook(r) : undefined;
  }

  async find(flowId: string, nodeId: string): Promise<HookRow | undefined> {
    const r = this.c
      .prepare('SELECT id, flow_id, node_id, secret FROM webhooks WHERE flow_id = ? AND node_id = ?')
      .get(flowId, nodeId) as Row | undefined;
    return r ? hook(r) : undefined;
  }

  async insert(h: HookRow & { createdAt: number }): Promise<void> {
    this.c
      .prepare('INSERT INTO webhooks (id, flow_id, node_id, secret, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(h.id, h.flowId, h.nodeId, h.secret, h.createdAt);
  }

  async setSecret(hookId: string, sealedSecret: string): Promise<void> {
    this.c.prepare('UPDATE webhooks SET secret = ? WHERE id = ?').run(sealedSecret, hookId);
  }
}
