import { type Entity, httpSource as httpSourceType } from '@sluice/shared';
import type { NodeFactory } from '../runtime.js';
import { httpSource } from './http-source.js';

interface Params {
  connection?: string;
  entity: Entity;
  filters?: { updatedAfter?: string; sort?: 'updatedAt' | '-updatedAt' };
  pageSize?: number;
  maxPages?: number;
  timeoutMs?: number;
}

/**
 * The HTTP source parameters that read one entity of the unified API: `GET /api/eam/<entity>`,
 * records at `data` keyed by `key`, page size `limit`, continuation token at
 * `meta.continuation_token` sent back as `continuation_token`, filters as `filter[updatedAt:gt]`
 * and `sort`. Defaults of the HTTP source fill the rest.
 */
export function entitySourceParams(p: Params): Record<string, unknown> {
  const query: Record<string, string> = {};
  if (p.filters?.updatedAfter) query['filter[updatedAt:gt]'] = p.filters.updatedAfter;
  if (p.filters?.sort) query.sort = p.filters.sort;
  return httpSourceType.params.parse({
    connection: p.connection ?? 'maintenance-sandbox',
    url: `/api/eam/${p.entity}`,
    method: 'GET',
    query,
    recordsPath: 'data',
    keyField: 'key',
    pageSize: p.pageSize ?? 100,
    pageSizeParam: 'limit',
    pagination: { type: 'token', tokenPath: 'meta.continuation_token', tokenParam: 'continuation_token' },
    ...(p.maxPages !== undefined ? { maxPages: p.maxPages } : {}),
    ...(p.timeoutMs !== undefined ? { timeoutMs: p.timeoutMs } : {}),
  }) as Record<string, unknown>;
}

/** Reads an entity of the unified API by delegating to the HTTP source with the parameters above. */
export const entitySource: NodeFactory = (ctx, raw, restored) =>
  httpSource(ctx, entitySourceParams(raw as unknown as Params), restored);
