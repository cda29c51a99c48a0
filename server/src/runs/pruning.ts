import type { AuditLog } from '../audit/audit-log.js';
import type { Logger } from '../logger.js';
import type { RetentionPolicy, RetentionStore } from '../storage/port.js';

/**
 * Runs the store's `prune` now and every `everyMs`, logging what it removed; with `audit`, removes
 * the audit log's entries older than its own retention in the same job.
 */
export function startPruning(
  store: RetentionStore,
  policy: RetentionPolicy,
  logger: Logger,
  everyMs = 3_600_000,
  audit?: { log: AuditLog; days: number },
): () => void {
  const log = logger.child({ job: 'retention' });
  let running = false;
  const once = async () => {
    // a slow prune is not started again over itself
    if (running) return;
    running = true;
    try {
      const r = await store.prune(policy);
      if (r.runs) log.info({ runs: r.runs, outcomes: r.outcomes }, 'removed the record outcomes of old runs');
      const entries = audit ? await audit.log.prune(audit.days) : 0;
      if (entries) log.info({ entries, days: audit?.days }, 'removed the audit entries past their retention');
    } catch (err) {
      log.error({ err }, 'retention failed; it is tried again at the next interval');
    } finally {
      running = false;
    }
  };
  void once();
  const timer = setInterval(() => void once(), everyMs).unref();
  return () => clearInterval(timer);
}
