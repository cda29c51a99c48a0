import dagre from '@dagrejs/dagre';
import { type Flow, nodeTypes } from '@sluice/shared';

const NODE_WIDTH = 200;

/** Roughly how tall a node is drawn, counting room for run counts, so laid-out nodes do not overlap. */
function estimateNodeHeight(outputCount: number, hasProblems: boolean): number {
  return 124 + (hasProblems ? 32 : 0) + (outputCount > 0 ? 10 + 18 * outputCount : 8);
}

/**
 * Positions for every node, left to right in the direction records flow (dagre's layered layout):
 * sources on the left, sinks on the right, error branches below the nodes that feed them.
 */
export function autoLayout(doc: Pick<Flow, 'nodes' | 'edges'>): Record<string, { x: number; y: number }> {
  const g = new dagre.graphlib.Graph({ multigraph: true });
  g.setGraph({ rankdir: 'LR', nodesep: 50, ranksep: 70, marginx: 20, marginy: 20 });
  g.setDefaultEdgeLabel(() => ({}));
  const ids = new Set(doc.nodes.map((n) => n.id));
  for (const node of doc.nodes) {
    const outputs = nodeTypes.get(node.type)?.outputs.length ?? 1;
    g.setNode(node.id, { width: NODE_WIDTH, height: estimateNodeHeight(outputs, false) });
  }
  for (const [i, e] of doc.edges.entries()) {
    if (!ids.has(e.source) || !ids.has(e.target)) continue;
    // error edges pull less, so the happy path stays on one line
    g.setEdge(e.source, e.target, { weight: e.sourcePort === 'error' ? 1 : 4 }, String(i));
  }
  dagre.layout(g);
  const out: Record<string, { x: number; y: number }> = {};
  for (const id of ids) {
    const n = g.node(id);
    if (n) out[id] = { x: Math.round(n.x - n.width / 2), y: Math.round(n.y - n.height / 2) };
  }
  return out;
}
