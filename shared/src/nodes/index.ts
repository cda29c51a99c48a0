import type { z } from 'zod';
import { aggregate } from './aggregate.js';
import { batch } from './batch.js';
import { branch } from './branch.js';
import { changedOnly } from './changed-only.js';
import { code } from './code.js';
import { collect } from './collect.js';
import { dedupe } from './dedupe.js';
import type { NodeTypeDefinition } from './define.js';
import { delay } from './delay.js';
import { entitySource, entityWrite } from './entity.js';
import { errorBranch } from './error-branch.js';
import { fileSink, fileSource } from './files.js';
import { filter } from './filter.js';
import { generate } from './generate.js';
import { httpLookup } from './http-lookup.js';
import { httpSource } from './http-source.js';
import { httpWrite } from './http-write.js';
import { inlineRecords } from './inline-records.js';
import { manualTrigger } from './manual.js';
import { map } from './map.js';
import { scheduleTrigger } from './schedule.js';
import { split } from './split.js';
import { sqlLookup, sqlSource, sqlWrite } from './sql.js';
import { webhookTrigger } from './webhook.js';

export type { NodeTypeDefinition } from './define.js';
export { defineNodeType } from './define.js';

/** Builds the catalogue, refusing two definitions of one type. */
export function createCatalogue(defs: readonly NodeTypeDefinition[]): ReadonlyMap<string, NodeTypeDefinition> {
  const table = new Map<string, NodeTypeDefinition>();
  for (const def of defs) {
    if (table.has(def.type)) throw new Error(`node type "${def.type}" is defined twice`);
    table.set(def.type, def);
  }
  return table;
}

/** Every node type's definition, in palette order. */
const definitions = [
  manualTrigger,
  scheduleTrigger,
  webhookTrigger,
  httpSource,
  entitySource,
  inlineRecords,
  generate,
  fileSource,
  batch,
  delay,
  filter,
  branch,
  map,
  split,
  aggregate,
  dedupe,
  changedOnly,
  code,
  httpWrite,
  entityWrite,
  fileSink,
  collect,
  errorBranch,
  sqlSource,
  sqlLookup,
  sqlWrite,
  httpLookup,
] as const;

/** Every node type of this release, in palette order. */
export const nodeTypes = createCatalogue(definitions);

/** The name of a node type of the catalogue, e.g. `'map'`. */
export type NodeTypeName = (typeof definitions)[number]['type'];

/**
 * A node type's parameters as `validateFlow` leaves them (defaults applied), derived from its zod
 * schema: what the engine's implementation of the type is given, e.g. `NodeParams<'map'>`.
 */
export type NodeParams<T extends NodeTypeName> = z.output<Extract<(typeof definitions)[number], { type: T }>['params']>;

/** Whether a string names a node type of the catalogue. */
export function isNodeTypeName(type: string): type is NodeTypeName {
  return nodeTypes.has(type);
}

export { AGGREGATE_OPS } from './aggregate.js';
export { ENTITIES, type Entity } from './entity.js';
export { CATCH_UP_POLICIES, OVERLAP_POLICIES } from './schedule.js';
export { isSqlIdentifier, SQL_IDENTIFIER, SQL_TABLE } from './sql.js';
export {
  aggregate,
  batch,
  branch,
  changedOnly,
  code,
  collect,
  dedupe,
  delay,
  entitySource,
  entityWrite,
  errorBranch,
  fileSink,
  fileSource,
  filter,
  generate,
  httpLookup,
  httpSource,
  httpWrite,
  inlineRecords,
  manualTrigger,
  map,
  scheduleTrigger,
  split,
  sqlLookup,
  sqlSource,
  sqlWrite,
  webhookTrigger,
};
