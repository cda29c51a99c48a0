import { type Entity, httpWrite as httpWriteType } from '@sluice/shared';
import type { RetryPolicy } from '../retry.js';
import type { NodeFactory } from '../runtime.js';
import { httpWrite } from './http-write.js';

interface Params {
  connection?: string;
  entity: Entity;
  mode?: 'record' | 'batch';
  batchSize?: number;
  concurrency?: number;
  timeoutMs?: number;
  retry?: RetryPolicy;
}

/**
 * The HTTP write parameters that write one entity to the unified ERP API: `POST /api/erp/<entity>`
 * per record, or `POST /api/erp/<entity>/batch` with `{"items": [...]}`, answered 200 (all written)
 * or 207 with `results` aligned with the items, each with a status (201 or 422) and, when rejected,
 * an `error` with the reason. Defaults of the HTTP write fill the rest.
 */
export function entityWriteParams(p: Params): Record<string, unknown> {
  const batch = (p.mode ?? 'batch') === 'batch';
  return httpWriteType.params.parse({
    connection: p.connection ?? 'erp-sandbox',
    url: batch ? `/api/erp/${p.entity}/batch` : `/api/erp/${p.entity}`,
    method: 'POST',
    mode: batch ? 'batch' : 'record',
    ...(batch
      ? {
          batchSize: p.batchSize ?? 50,
          bodyPath: 'items',
          successStatuses: [200, 207],
          resultsPath: 'results',
          resultStatusPath: 'status',
          resultErrorPath: 'error',
        }
      : {}),
    ...(p.concurrency !== undefined ? { concurrency: p.concurrency } : {}),
    ...(p.timeoutMs !== undefined ? { timeoutMs: p.timeoutMs } : {}),
    ...(p.retry !== undefined ? { retry: p.retry } : {}),
  }) as Record<string, unknown>;
}

/** Writes an entity to the unified ERP API by delegating to the HTTP write with the parameters above. */
export const entityWrite: NodeFactory = (ctx, raw, restored) =>
  httpWrite(ctx, entityWriteParams(raw as unknown as Params), restored);
