import type { z } from 'zod';
import { type Flow, type FlowEdge, flowSchema, migrateFlow } from './flow.js';
import { type NodeTypeDefinition, nodeTypes } from './nodes/index.js';

export interface Problem {
  severity: 'error' | 'warning';
  /** Stable machine-readable kind, e.g. "unknown-node-type". */
  code: string;
  /** Where in the document, e.g. "nodes[2].params.size". */
  path: string;
  message: string;
  nodeId?: string;
}

export interface ValidationResult {
  ok: boolean;
  /** The parsed flow with defaults applied, when its shape could be read at all. */
  flow?: Flow;
  problems: Problem[];
}

/** Renders a zod path as `nodes[2].params.size`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}

function zodProblems(error: z.ZodError, prefix: readonly PropertyKey[], nodeId?: string): Problem[] {
  return error.issues.map((issue) => {
    const path = formatPath([...prefix, ...issue.path]);
    const problem: Problem = {
      severity: 'error',
      code: prefix.length ? 'bad-parameter' : 'bad-shape',
      path,
      message: `${path || 'flow'}: ${issue.message}`,
    };
    if (nodeId) problem.nodeId = nodeId;
    return problem;
  });
}

/**
 * Checks a flow document (of this format, or an older one it brings up to date) and returns every
 * problem at once; `ok` is false when any is an error.
 */
export function validateFlow(input: unknown): ValidationResult {
  const parsed = flowSchema.safeParse(migrateFlow(input));
  if (!parsed.success) return { ok: false, problems: zodProblems(parsed.error, []) };
  const flow = parsed.data;
  const problems: Problem[] = [];
  const types = checkNodes(flow, problems);
  const usable = checkEdges(flow, types, problems);
  checkRoles(types, problems);
  checkCycles(flow, usable, problems);
  checkReachability(flow, types, usable, problems);
  checkNotes(flow, problems);
  return { ok: !problems.some((p) => p.severity === 'error'), flow, problems };
}

/** Parses each node's params against its type; returns the definition per node id. */
function checkNodes(flow: Flow, problems: Problem[]): Map<string, NodeTypeDefinition> {
  const types = new Map<string, NodeTypeDefinition>();
  const seen = new Set<string>();
  flow.nodes.forEach((node, i) => {
    if (seen.has(node.id)) {
      problems.push({
        severity: 'error',
        code: 'duplicate-id',
        path: `nodes[${i}].id`,
        message: `nodes[${i}].id: "${node.id}" is used by another node`,
        nodeId: node.id,
      });
    }
    seen.add(node.id);
    const def = nodeTypes.get(node.type);
    if (!def) {
      problems.push({
        severity: 'error',
        code: 'unknown-node-type',
        path: `nodes[${i}].type`,
        message: `nodes[${i}].type: unknown node type "${node.type}" (known: ${[...nodeTypes.keys()].join(', ')})`,
        nodeId: node.id,
      });
      return;
    }
    if (!types.has(node.id)) types.set(node.id, def);
    const params = def.params.safeParse(node.params);
    if (params.success) node.params = params.data as Record<string, unknown>;
    else problems.push(...zodProblems(params.error, ['nodes', i, 'params'], node.id));
  });
  return types;
}

/** Reports edges that name unknown nodes or ports; returns the edges the graph checks can use. */
function checkEdges(flow: Flow, types: Map<string, NodeTypeDefinition>, problems: Problem[]): FlowEdge[] {
  const usable: FlowEdge[] = [];
  const ids = new Set<string>();
  const pairs = new Set<string>();
  flow.edges.forEach((edge, i) => {
    const at = `edges[${i}]`;
    const bad = (field: string, code: string, message: string) =>
      problems.push({ severity: 'error', code, path: `${at}.${field}`, message: `${at}.${field}: ${message}` });
    if (edge.id !== undefined) {
      if (ids.has(edge.id)) bad('id', 'duplicate-id', `"${edge.id}" is used by another edge`);
      ids.add(edge.id);
    }
    const from = types.get(edge.source);
    const to = types.get(edge.target);
    const knownSource = flow.nodes.some((n) => n.id === edge.source);
    const knownTarget = flow.nodes.some((n) => n.id === edge.target);
    let ok = true;
    if (!knownSource) {
      bad('source', 'unknown-node', `no node has id "${edge.source}"`);
      ok = false;
    } else if (from && !from.outputs.includes(edge.sourcePort)) {
      const ports = from.outputs.length ? from.outputs.join(', ') : 'none';
      bad(
        'sourcePort',
        'unknown-port',
        `node "${edge.source}" (${from.type}) has no port "${edge.sourcePort}" (ports: ${ports})`,
      );
      ok = false;
    }
    if (!knownTarget) {
      bad('target', 'unknown-node', `no node has id "${edge.target}"`);
      ok = false;
    } else if (to && !to.input) {
      bad('target', 'no-input', `node "${edge.target}" (${to.type}) takes no input`);
      ok = false;
    }
    if (ok && to?.role === 'error-handler' && edge.sourcePort !== 'error') {
      bad(
        'sourcePort',
        'error-handler-input',
        `an error branch takes records only from an "error" port, not "${edge.sourcePort}"`,
      );
    }
    const pair = `${edge.source}\u0000${edge.sourcePort}\u0000${edge.target}`;
    if (ok && pairs.has(pair)) bad('target', 'duplicate-edge', `the same connection is made twice`);
    pairs.add(pair);
    if (ok && from && to) usable.push(edge);
  });
  return usable;
}

function checkRoles(types: Map<string, NodeTypeDefinition>, problems: Problem[]): void {
  const roles = [...types.values()].map((d) => d.role);
  const bringsRecords = [...types.values()].some((d) => d.providesRecords);
  if (!roles.includes('trigger')) {
    problems.push({
      severity: 'error',
      code: 'no-trigger',
      path: 'nodes',
      message: 'nodes: the flow has no trigger (add a Manual trigger)',
    });
  }
  if (!roles.includes('source') && !bringsRecords) {
    problems.push({
      severity: 'error',
      code: 'no-source',
      path: 'nodes',
      message: 'nodes: the flow has no source of records (add an HTTP source or Inline records)',
    });
  }
}

function checkCycles(flow: Flow, edges: FlowEdge[], problems: Problem[]): void {
  const next = adjacency(edges);
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const reported = new Set<string>();
  const visit = (id: string): void => {
    state.set(id, 'visiting');
    stack.push(id);
    for (const to of next.get(id) ?? []) {
      const s = state.get(to);
      if (s === 'visiting') {
        const cycle = [...stack.slice(stack.indexOf(to)), to];
        const key = [...cycle].sort().join(',');
        if (!reported.has(key)) {
          reported.add(key);
          problems.push({
            severity: 'error',
            code: 'cycle',
            path: 'edges',
            message: `edges: records would go round in a cycle: ${cycle.join(' → ')}`,
            nodeId: to,
          });
        }
      } else if (!s) visit(to);
    }
    stack.pop();
    state.set(id, 'done');
  };
  for (const node of flow.nodes) if (!state.has(node.id)) visit(node.id);
}

function checkReachability(
  flow: Flow,
  types: Map<string, NodeTypeDefinition>,
  edges: FlowEdge[],
  problems: Problem[],
): void {
  const next = adjacency(edges);
  const reached = new Set<string>();
  const queue = flow.nodes.filter((n) => types.get(n.id)?.role === 'trigger').map((n) => n.id);
  if (queue.length === 0) return;
  while (queue.length) {
    const id = queue.shift() as string;
    if (reached.has(id)) continue;
    reached.add(id);
    queue.push(...(next.get(id) ?? []));
  }
  const sources = flow.nodes.filter((n) => types.get(n.id)?.role === 'source');
  const bringsRecords = flow.nodes.some((n) => types.get(n.id)?.providesRecords);
  if (sources.length > 0 && !bringsRecords && !sources.some((n) => reached.has(n.id))) {
    problems.push({
      severity: 'error',
      code: 'source-not-connected',
      path: 'edges',
      message: `edges: no source is connected to a trigger, so a run would read nothing (connect the trigger's "out" to "${sources[0]?.id}")`,
    });
  }
  flow.nodes.forEach((node, i) => {
    if (!reached.has(node.id)) {
      problems.push({
        severity: 'warning',
        code: 'unreachable',
        path: `nodes[${i}]`,
        message: `nodes[${i}]: node "${node.id}" cannot be reached from a trigger and will never receive records`,
        nodeId: node.id,
      });
    }
  });
}

function adjacency(edges: FlowEdge[]): Map<string, string[]> {
  const next = new Map<string, string[]>();
  for (const e of edges) next.set(e.source, [...(next.get(e.source) ?? []), e.target]);
  return next;
}

/** Notes need ids of their own: the canvas and edits find them by it. */
function checkNotes(flow: Flow, problems: Problem[]): void {
  const seen = new Set<string>();
  flow.notes?.forEach((note, i) => {
    if (seen.has(note.id)) {
      problems.push({
        severity: 'error',
        code: 'duplicate-id',
        path: `notes[${i}].id`,
        message: `notes[${i}].id: "${note.id}" is used by another note`,
      });
    }
    seen.add(note.id);
  });
}
