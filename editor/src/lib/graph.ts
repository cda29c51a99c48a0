import {
  nodeTypes as catalogue,
  describeProblem,
  ERROR_PORT,
  type Flow,
  type NodeGroup,
  type NodeTypeDefinition,
  type Problem,
} from '@sluice/shared';
import type { Edge, Node } from '@xyflow/react';
import { autoLayout } from './auto-layout';
import { paramSummary } from './summary';

/** Which custom node component draws a node: one per catalogue group, and one for unknown types. */
export type NodeKind = 'trigger' | 'source' | 'control' | 'transform' | 'sink' | 'error' | 'unknown';

const KIND_OF_GROUP: Record<NodeGroup, NodeKind> = {
  triggers: 'trigger',
  sources: 'source',
  'flow control': 'control',
  transform: 'transform',
  shaping: 'transform',
  sinks: 'sink',
  errors: 'error',
};

export type FlowNodeData = {
  nodeId: string;
  label: string;
  type: string;
  typeLabel: string;
  description: string;
  summary: string | null;
  hasInput: boolean;
  /** Output ports in the catalogue's order, plus any port an edge uses that the type does not have. */
  outputs: string[];
  problems: Problem[];
};

export type CanvasNode = Node<FlowNodeData, NodeKind>;

export function kindOf(def: NodeTypeDefinition | undefined): NodeKind {
  return def ? KIND_OF_GROUP[def.group] : 'unknown';
}

/** Problems per node id: by `nodeId`, or by a `nodes[i]` path when the problem has no node id. */
export function problemsByNode(flow: Pick<Flow, 'nodes'>, problems: readonly Problem[]): Map<string, Problem[]> {
  const out = new Map<string, Problem[]>();
  for (const problem of problems) {
    let id = problem.nodeId;
    if (!id) {
      const match = /^nodes\[(\d+)\]/.exec(problem.path);
      if (match) id = flow.nodes[Number(match[1])]?.id;
    }
    if (id) out.set(id, [...(out.get(id) ?? []), problem]);
  }
  return out;
}

/** The id React Flow uses for an edge: the edge's own id, or one built from its ends. */
export function edgeId(edge: { id?: string | undefined; source: string; sourcePort: string; target: string }): string {
  return edge.id ?? `${edge.source}:${edge.sourcePort}->${edge.target}`;
}

const ERROR_COLOUR = '#dc2626';

function cardMessage(flow: Flow, problem: Problem): string {
  const text = describeProblem(flow, problem);
  return text.field ? `${text.field}: ${text.text}` : text.text;
}

/** Turns a flow document into canvas nodes and edges, laying out the nodes that have no position. */
export function buildGraph(
  flow: Flow,
  problems: readonly Problem[],
  types: ReadonlyMap<string, NodeTypeDefinition> = catalogue,
): { nodes: CanvasNode[]; edges: Edge[] } {
  const ids = new Set(flow.nodes.map((n) => n.id));
  const edges = flow.edges.filter((e) => ids.has(e.source) && ids.has(e.target));
  const outputs = new Map<string, string[]>();
  const targeted = new Set<string>();
  for (const node of flow.nodes) outputs.set(node.id, [...(types.get(node.type)?.outputs ?? [])]);
  for (const edge of edges) {
    const ports = outputs.get(edge.source);
    if (ports && !ports.includes(edge.sourcePort)) ports.push(edge.sourcePort);
    targeted.add(edge.target);
  }
  const byNode = problemsByNode(flow, problems);
  // nodes without a stored position are placed by the automatic layout
  const auto = flow.nodes.some((n) => !n.position) ? autoLayout({ nodes: flow.nodes, edges }) : {};

  const seen = new Set<string>();
  const nodes: CanvasNode[] = [];
  for (const node of flow.nodes) {
    if (seen.has(node.id)) continue;
    seen.add(node.id);
    const def = types.get(node.type);
    nodes.push({
      id: node.id,
      type: kindOf(def),
      position: node.position ?? auto[node.id] ?? { x: 0, y: 0 },
      data: {
        nodeId: node.id,
        label: node.name?.trim() || def?.label || node.type,
        type: node.type,
        typeLabel: def?.label ?? `Unknown type "${node.type}"`,
        description: def?.description ?? '',
        summary: paramSummary(node, def),
        hasInput: (def?.input ?? false) || targeted.has(node.id),
        outputs: outputs.get(node.id) ?? [],
        // in words, without the node's own name the card already shows: "URL: required"
        problems: (byNode.get(node.id) ?? []).map((p) => ({ ...p, message: cardMessage(flow, p) })),
      },
    });
  }

  const edgeIds = new Set<string>();
  const canvasEdges: Edge[] = [];
  for (const edge of edges) {
    let id = edgeId(edge);
    while (edgeIds.has(id)) id = `${id}'`;
    edgeIds.add(id);
    const isError = edge.sourcePort === ERROR_PORT;
    const isBranch = edge.sourcePort === 'true' || edge.sourcePort === 'false';
    canvasEdges.push({
      id,
      source: edge.source,
      sourceHandle: edge.sourcePort,
      target: edge.target,
      className: isError ? 'edge-error' : isBranch ? `edge-${edge.sourcePort}` : undefined,
      // drawn by the canvas's `labelled` edge: an HTML label, not one React Flow measures in SVG
      type: isError || isBranch ? 'labelled' : undefined,
      label: isError || isBranch ? edge.sourcePort : undefined,
      style: isError ? { stroke: ERROR_COLOUR, strokeDasharray: '6 4', strokeWidth: 1.75 } : undefined,
      markerEnd: { type: 'arrowclosed', color: isError ? ERROR_COLOUR : '#94a3b8', width: 16, height: 16 },
    });
  }
  return { nodes, edges: canvasEdges };
}

/** Every node upstream of `nodeId` (not the node itself): all it may receive records from. */
export function upstreamOf(doc: Pick<Flow, 'edges'>, nodeId: string): Set<string> {
  const seen = new Set<string>();
  const queue = [nodeId];
  while (queue.length) {
    const id = queue.pop() as string;
    for (const e of doc.edges) {
      if (e.target === id && !seen.has(e.source)) {
        seen.add(e.source);
        queue.push(e.source);
      }
    }
  }
  seen.delete(nodeId);
  return seen;
}
