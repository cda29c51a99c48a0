import { httpWrite as httpWriteType, type NodeParams } from '@sluice/shared';
import type { NodeFactory, WriteContext } from '../runtime.js';
import { httpWrite } from './http-write.js';

/**
 * The HTTP write parameters that write one entity to the unified ERP API: `POST /api/erp/<entity>`
 * per record, or `POST /api/erp/<entity>/batch` with `{"items": [...]}`, answered 200 (all written)
 * or 207 with `results` aligned with the items, each with a status (201 or 422) and, when rejected,
 * an `error` with the reason. Defaults of the HTTP write fill the rest.
 */
export function entityWriteParams(p: NodeParams<'entity-write'>): NodeParams<'http-write'> {
  const batch = p.mode === 'batch';
  return httpWriteType.params.parse({
    connection: p.connection,
    url: batch ? `/api/erp/${p.entity}/batch` : `/api/erp/${p.entity}`,
    method: 'POST',
    mode: batch ? 'batch' : 'record',
    ...(batch
      ? {
          batchSize: p.batchSize,
          bodyPath: 'items',
          successStatuses: [200, 207],
          resultsPath: 'results',
          resultStatusPath: 'status',
          resultErrorPath: 'error',
        }
      : {}),
    concurrency: p.concurrency,
    timeoutMs: p.timeoutMs,
    retry: p.retry,
  });
}

/** Writes an entity to the unified ERP API by delegating to the HTTP write with the parameters above. */
export const entityWrite: NodeFactory<'entity-write', WriteContext> = (ctx, params, restored) =>
  httpWrite(ctx, entityWriteParams(params), restored);
