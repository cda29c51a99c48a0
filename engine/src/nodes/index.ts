import { type FlowNode, isNodeTypeName, type NodeParams, type NodeTypeName } from '@sluice/shared';
import type { NodeContext, NodeFactory, NodeRuntime } from '../runtime.js';
import { batch } from './batch.js';
import { branch } from './branch.js';
import { collect } from './collect.js';
import { delay } from './delay.js';
import { entitySource } from './entity-source.js';
import { entityWrite } from './entity-write.js';
import { errorBranch } from './error-branch.js';
import { fileSink } from './file-sink.js';
import { fileSource } from './file-source.js';
import { filter } from './filter.js';
import { generate } from './generate.js';
import { httpSource } from './http-source.js';
import { httpWrite } from './http-write.js';
import { inlineRecords } from './inline-records.js';
import { manual } from './manual.js';
import { map } from './map.js';
import { webhook } from './webhook.js';

/** How each node type of the catalogue runs: one implementation per type, checked by the compiler. */
export const runtimes: { readonly [T in NodeTypeName]: NodeFactory<T> } = {
  manual: manual,
  schedule: manual,
  webhook: webhook,
  'http-source': httpSource,
  'entity-source': entitySource,
  'inline-records': inlineRecords,
  generate: generate,
  'file-source': fileSource,
  batch: batch,
  delay: delay,
  filter: filter,
  branch: branch,
  map: map,
  'http-write': httpWrite,
  'entity-write': entityWrite,
  'file-sink': fileSink,
  collect: collect,
  'error-branch': errorBranch,
};

/**
 * Starts a node of a validated flow. `validateFlow` parsed its params with its type's schema, so they
 * are that type's `NodeParams`: this is the one place that relies on it.
 */
export function createNodeRuntime(node: FlowNode, ctx: NodeContext, restored: unknown): NodeRuntime {
  if (!isNodeTypeName(node.type)) throw new Error(`no implementation for type "${node.type}"`);
  return start(node.type, node.params as NodeParams<NodeTypeName>, ctx, restored);
}

function start<T extends NodeTypeName>(type: T, params: NodeParams<T>, ctx: NodeContext, restored: unknown) {
  return runtimes[type](ctx, params, restored);
}
