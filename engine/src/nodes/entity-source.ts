import { httpSource as httpSourceType, type NodeParams } from '@sluice/shared';
import type { NodeFactory, SourceContext } from '../runtime.js';
import { httpSource } from './http-source.js';

/**
 * The HTTP source parameters that read one entity of the unified API: `GET /api/eam/<entity>`,
 * records at `data` keyed by `key`, page size `limit`, continuation token at
 * `meta.continuation_token` sent back as `continuation_token`, filters as `filter[updatedAt:gt]`
 * and `sort`. Defaults of the HTTP source fill the rest.
 */
export function entitySourceParams(p: NodeParams<'entity-source'>): NodeParams<'http-source'> {
  const query: Record<string, string> = {};
  if (p.filters?.updatedAfter) query['filter[updatedAt:gt]'] = p.filters.updatedAfter;
  if (p.filters?.sort) query.sort = p.filters.sort;
  return httpSourceType.params.parse({
    connection: p.connection,
    url: `/api/eam/${p.entity}`,
    method: 'GET',
    query,
    recordsPath: 'data',
    keyField: 'key',
    pageSize: p.pageSize,
    pageSizeParam: 'limit',
    pagination: { type: 'token', tokenPath: 'meta.continuation_token', tokenParam: 'continuation_token' },
    maxPages: p.maxPages,
    timeoutMs: p.timeoutMs,
  });
}

/** Reads an entity of the unified API by delegating to the HTTP source with the parameters above. */
export const entitySource: NodeFactory<'entity-source', SourceContext> = (ctx, params, restored) =>
  httpSource(ctx, entitySourceParams(params), restored);
