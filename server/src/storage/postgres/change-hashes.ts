import type { ChangeHashRows } from '../port.js';
import { toId } from '../run-views.js';
import type { PgDb } from './db.js';
import { changes, rows, transaction } from './rows.js';

/** Changed-only nodes' hashes on PostgreSQL (tables `change_hashes`, `change_hashes_staged`). */
export class PgChangeHashes implements ChangeHashRows {
  private readonly pool: PgDb['$client'];

  constructor(db: PgDb) {
    this.pool = db.$client;
  }

  async currentHashes({ flowId, nodeId, keys }: { flowId: string; nodeId: string; keys: readonly string[] }) {
    const found = new Map<string, string>();
    if (keys.length === 0) return found;
    const rowsFound = await rows<{ key: string; hash: Buffer }>(
      this.pool,
      'SELECT key, hash FROM change_hashes WHERE flow_id = $1 AND node_id = $2 AND key = ANY($3::text[])',
      [flowId, nodeId, keys],
    );
    for (const r of rowsFound) found.set(r.key, r.hash.toString('hex'));
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
    if (entries.length === 0) return;
    // the last hash of a key staged twice in one call wins, as it would one by one
    const last = new Map(entries.map(([key, hash]) => [key, hash]));
    await changes(
      this.pool,
      `INSERT INTO change_hashes_staged (run_id, node_id, key, hash)
         SELECT $1, $2, k, decode(h, 'hex') FROM unnest($3::text[], $4::text[]) AS e(k, h)
         ON CONFLICT (run_id, node_id, key) DO UPDATE SET hash = excluded.hash`,
      [toId(runId), nodeId, [...last.keys()], [...last.values()]],
    );
  }

  async promoteHashes({ runId, flowId }: { runId: string; flowId: string }) {
    const id = toId(runId);
    return transaction(this.pool, async (client) => {
      const made = await changes(
        client,
        `INSERT INTO change_hashes (flow_id, node_id, key, hash, run_id)
           SELECT $1, node_id, key, hash, run_id FROM change_hashes_staged WHERE run_id = $2 ORDER BY node_id, key
           ON CONFLICT (flow_id, node_id, key) DO UPDATE SET hash = excluded.hash, run_id = excluded.run_id`,
        [flowId, id],
      );
      await changes(client, 'DELETE FROM change_hashes_staged WHERE run_id = $1', [id]);
      // and what runs of the flow that ended without the runner dropping their hashes left behind
      await changes(
        client,
        `DELETE FROM change_hashes_staged WHERE run_id IN
           (SELECT id FROM runs WHERE flow_id = $1 AND status IN ('failed', 'cancelled'))`,
        [flowId],
      );
      return made;
    });
  }

  async discardHashes(runId: string) {
    await changes(this.pool, 'DELETE FROM change_hashes_staged WHERE run_id = $1', [toId(runId)]);
  }
}
