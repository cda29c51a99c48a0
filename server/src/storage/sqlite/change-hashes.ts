import type Database from 'better-sqlite3';
import type { ChangeHashRows } from '../port.js';
import type { Db } from './open.js';
import { preparedStatements } from './statements.js';

/** Keys per SELECT: below SQLite's limit on bound values. */
const CHUNK = 500;

/** Changed-only nodes' hashes on SQLite (tables `change_hashes`, `change_hashes_staged`). */
export class SqliteChangeHashes implements ChangeHashRows {
  private readonly sql: (text: string) => Database.Statement;
  private readonly db: Database.Database;

  constructor(db: Db) {
    this.db = db.$client;
    this.sql = preparedStatements(db.$client);
  }

  async currentHashes({ flowId, nodeId, keys }: { flowId: string; nodeId: string; keys: readonly string[] }) {
    const found = new Map<string, string>();
    for (let i = 0; i < keys.length; i += CHUNK) {
      const part = keys.slice(i, i + CHUNK);
      const rows = this.db
        .prepare(
          `SELECT key, hash FROM change_hashes WHERE flow_id = ? AND node_id = ? AND key IN (${part.map(() => '?').join(',')})`,
        )
        .all(flowId, nodeId, ...part) as { key: string; hash: Buffer }[];
      for (const r of rows) found.set(r.key, r.hash.toString('hex'));
    }
    return found;
  }

  async stageHashes({
    runId,
    nodeId,
    entries,
  }: {
    runId: string;
    nodeId: string;
    entries: readonly (readonly [string, string])[];
  }) {
    const insert = this.sql(
      `INSERT INTO change_hashes_staged (run_id, node_id, key, hash) VALUES (?, ?, ?, ?)
         ON CONFLICT (run_id, node_id, key) DO UPDATE SET hash = excluded.hash`,
    );
    this.db.transaction(() => {
      for (const [key, hash] of entries) insert.run(Number(runId), nodeId, key, Buffer.from(hash, 'hex'));
    })();
  }

  async promoteHashes({ runId, flowId }: { runId: string; flowId: string }) {
    return this.db.transaction(() => {
      const made = this.sql(
        `INSERT INTO change_hashes (flow_id, node_id, key, hash, run_id)
           SELECT ?, node_id, key, hash, run_id FROM change_hashes_staged WHERE run_id = ? ORDER BY node_id, key
           ON CONFLICT (flow_id, node_id, key) DO UPDATE SET hash = excluded.hash, run_id = excluded.run_id`,
      ).run(flowId, Number(runId)).changes;
      this.sql('DELETE FROM change_hashes_staged WHERE run_id = ?').run(Number(runId));
      // and what runs of the flow that ended without the runner dropping their hashes left behind
      this.sql(
        `DELETE FROM change_hashes_staged WHERE run_id IN
           (SELECT id FROM runs WHERE flow_id = ? AND status IN ('failed', 'cancelled'))`,
      ).run(flowId);
      return made;
    })();
  }

  async discardHashes(runId: string) {
    this.sql('DELETE FROM change_hashes_staged WHERE run_id = ?').run(Number(runId));
  }
}
