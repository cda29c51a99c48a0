import { type FlowNode, isNodeTypeName, type NodeParams, type NodeTypeName } from '@sluice/shared';
import { type ContextMaker, implement, type NodeImplementation, type NodeRuntime } from '../runtime.js';
import { aggregate } from './aggregate.js';
import { batch } from './batch.js';
import { branch } from './branch.js';
import { changedOnly } from './changed-only.js';
import { code } from './code.js';
import { collect } from './collect.js';
import { dedupe } from './dedupe.js';
import { delay } from './delay.js';
import { entitySource } from './entity-source.js';
import { entityWrite } from './entity-write.js';
import { errorBranch } from './error-branch.js';
import { fileSink } from './file-sink.js';
import { fileSource } from './file-source.js';
import { filter } from './filter.js';
import { generate } from './generate.js';
import { httpLookup } from './http-lookup.js';
import { httpSource } from './http-source.js';
import { httpWrite } from './http-write.js';
import { inlineRecords } from './inline-records.js';
import { manual } from './manual.js';
import { map } from './map.js';
import { split } from './split.js';
import { sqlLookup } from './sql-lookup.js';
import { sqlSource } from './sql-source.js';
import { sqlWrite } from './sql-write.js';
import { webhook } from './webhook.js';

/** How each node type of the catalogue runs: one implementation per type, checked by the compiler. */
export const runtimes: { readonly [T in NodeTypeName]: NodeImplementation<T> } = {
  manual: implement('trigger', manual),
  schedule: implement('trigger', manual),
  webhook: implement('source', webhook),
  'http-source': implement('source', httpSource),
  'entity-source': implement('source', entitySource),
  'inline-records': implement('source', inlineRecords),
  generate: implement('source', generate),
  'file-source': implement('source', fileSource),
  batch: implement('flow-control', batch),
  delay: implement('flow-control', delay),
  filter: implement('transform', filter),
  branch: implement('transform', branch),
  map: implement('transform', map),
  split: implement('shaping', split),
  aggregate: implement('shaping', aggregate),
  dedupe: implement('shaping', dedupe),
  'changed-only': implement('shaping', changedOnly),
  code: implement('shaping', code),
  'http-write': implement('write', httpWrite),
  'entity-write': implement('write', entityWrite),
  'file-sink': implement('write', fileSink),
  collect: implement('write', collect),
  'error-branch': implement('transform', errorBranch),
  'sql-source': implement('source', sqlSource),
  'sql-lookup': implement('write', sqlLookup),
  'sql-write': implement('write', sqlWrite),
  'http-lookup': implement('write', httpLookup),
};

/**
 * Starts a node of a validated flow. `validateFlow` parsed its params with its type's schema, so they
 * are that type's `NodeParams`: this is the one place that relies on it.
 */
export function createNodeRuntime(node: FlowNode, contextFor: ContextMaker, restored: unknown): NodeRuntime {
  if (!isNodeTypeName(node.type)) throw new Error(`no implementation for type "${node.type}"`);
  return start(node.type, node.params as NodeParams<NodeTypeName>, contextFor, restored);
}

function start<T extends NodeTypeName>(type: T, params: NodeParams<T>, contextFor: ContextMaker, restored: unknown) {
  return runtimes[type].start(contextFor, params, restored);
}
