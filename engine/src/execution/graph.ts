import { type Flow, type FlowNode, nodeTypes } from '@sluice/shared';
import type { NodeRuntime } from '../runtime.js';

/** A node of the running flow: its place in the graph and, once started, its implementation. */
export interface LiveNode {
  node: FlowNode;
  /** Position in the flow's node list: per-node counts are kept by it (see tracker.ts). */
  index: number;
  /** Position in a topological order of the flow (a node comes after every node feeding it). */
  order: number;
  /** The catalogue's role; a trigger that brings its own records (a webhook) counts as a source. */
  role: string | undefined;
  /** Triggers: the run starts by sending each of them an activation. */
  starts: boolean;
  runtime: NodeRuntime;
  /** The nodes each output port feeds, in edge order. */
  ports: Map<string, LiveNode[]>;
}

/** The flow's nodes by id, wired port to input as its edges say; runtimes are started later. */
export function buildGraph(flow: Flow): Map<string, LiveNode> {
  const nodes = new Map<string, LiveNode>();
  flow.nodes.forEach((node, index) => {
    const def = nodeTypes.get(node.type);
    nodes.set(node.id, {
      node,
      index,
      order: index,
      role: def?.providesRecords ? 'source' : def?.role,
      starts: def?.role === 'trigger',
      runtime: { process: async () => {} },
      ports: new Map(),
    });
  });
  for (const edge of flow.edges) {
    const from = nodes.get(edge.source);
    const to = nodes.get(edge.target);
    if (from && to) from.ports.set(edge.sourcePort, [...(from.ports.get(edge.sourcePort) ?? []), to]);
  }
  topologicalOrder(nodes.values()).forEach((live, i) => {
    live.order = i;
  });
  return nodes;
}

/** The nodes in an order where every node comes after all that feed it (Kahn's algorithm). */
export function topologicalOrder(nodes: Iterable<LiveNode>): LiveNode[] {
  const indegree = new Map<LiveNode, number>();
  for (const live of nodes) indegree.set(live, 0);
  for (const live of indegree.keys())
    for (const targets of live.ports.values()) for (const t of targets) indegree.set(t, (indegree.get(t) ?? 0) + 1);
  const queue = [...indegree].filter(([, d]) => d === 0).map(([live]) => live);
  const order: LiveNode[] = [];
  while (queue.length) {
    const live = queue.shift() as LiveNode;
    order.push(live);
    for (const targets of live.ports.values()) {
      for (const t of targets) {
        const d = (indegree.get(t) ?? 0) - 1;
        indegree.set(t, d);
        if (d === 0) queue.push(t);
      }
    }
  }
  return order;
}
