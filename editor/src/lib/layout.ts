export interface XY {
  x: number;
  y: number;
}

export interface LayoutEdge {
  source: string;
  target: string;
  /** Position of the source port among the node's outputs (0 = main output); pushes targets lower. */
  rank?: number;
}

export interface LayoutOptions {
  /** Distance between the left edges of two neighbouring columns. */
  columnGap: number;
  /** Empty space kept between two nodes of one column. */
  rowGap: number;
  /** How much lower than its source a node fed by a later port would like to sit, per port. */
  portOffset: number;
  /** Height assumed for a node with no estimate. */
  nodeHeight: number;
}

const DEFAULTS: LayoutOptions = { columnGap: 260, rowGap: 50, portOffset: 120, nodeHeight: 170 };

/** Column of each node: the longest path to it from a node nothing flows into. Cycles do not loop. */
export function layerNodes(ids: readonly string[], edges: readonly LayoutEdge[]): Map<string, number> {
  const known = new Set(ids);
  const usable = edges.filter((e) => known.has(e.source) && known.has(e.target) && e.source !== e.target);
  const indegree = new Map(ids.map((id) => [id, 0]));
  const next = new Map<string, string[]>();
  for (const e of usable) {
    indegree.set(e.target, (indegree.get(e.target) ?? 0) + 1);
    next.set(e.source, [...(next.get(e.source) ?? []), e.target]);
  }
  const layer = new Map<string, number>();
  const queue = ids.filter((id) => indegree.get(id) === 0);
  for (const id of queue) layer.set(id, 0);
  const done = new Set<string>();
  const drain = () => {
    while (queue.length > 0) {
      const id = queue.shift() as string;
      if (done.has(id)) continue;
      done.add(id);
      for (const to of next.get(id) ?? []) {
        if (done.has(to)) continue;
        layer.set(to, Math.max(layer.get(to) ?? 0, (layer.get(id) ?? 0) + 1));
        const left = (indegree.get(to) ?? 1) - 1;
        indegree.set(to, left);
        if (left === 0) queue.push(to);
      }
    }
  };
  drain();
  // Nodes on a cycle never reach indegree 0: place them after what leads into them, one at a time.
  for (const id of ids) {
    if (done.has(id)) continue;
    if (!layer.has(id)) layer.set(id, 0);
    queue.push(id);
    drain();
  }
  return layer;
}

/** Left-to-right layered positions for every node: columns by longest path, rows kept near predecessors. */
export function layeredLayout(
  ids: readonly string[],
  edges: readonly LayoutEdge[],
  options: Partial<LayoutOptions> = {},
  heights: ReadonlyMap<string, number> = new Map(),
): Map<string, XY> {
  const { columnGap, rowGap, portOffset, nodeHeight } = { ...DEFAULTS, ...options };
  const height = (id: string) => heights.get(id) ?? nodeHeight;
  const unique = [...new Set(ids)];
  const layer = layerNodes(unique, edges);
  const docIndex = new Map(unique.map((id, i) => [id, i]));
  const columns = new Map<number, string[]>();
  for (const id of unique) {
    const l = layer.get(id) ?? 0;
    columns.set(l, [...(columns.get(l) ?? []), id]);
  }
  const incoming = new Map<string, LayoutEdge[]>();
  for (const e of edges) incoming.set(e.target, [...(incoming.get(e.target) ?? []), e]);

  const out = new Map<string, XY>();
  for (const l of [...columns.keys()].sort((a, b) => a - b)) {
    const members = columns.get(l) ?? [];
    const wanted = new Map<string, number>();
    for (const id of members) {
      const ys = (incoming.get(id) ?? [])
        .filter((e) => (layer.get(e.source) ?? 0) < l && out.has(e.source))
        .map((e) => (out.get(e.source)?.y ?? 0) + (e.rank ?? 0) * portOffset);
      wanted.set(id, ys.length > 0 ? ys.reduce((a, b) => a + b, 0) / ys.length : Number.POSITIVE_INFINITY);
    }
    const ordered = [...members].sort(
      (a, b) => (wanted.get(a) ?? 0) - (wanted.get(b) ?? 0) || (docIndex.get(a) ?? 0) - (docIndex.get(b) ?? 0),
    );
    // The first free y below the node placed last in this column.
    let free = Number.NEGATIVE_INFINITY;
    for (const id of ordered) {
      const want = wanted.get(id) ?? Number.POSITIVE_INFINITY;
      const y = Number.isFinite(want) ? Math.max(want, free) : Number.isFinite(free) ? free : 0;
      out.set(id, { x: l * columnGap, y });
      free = y + height(id) + rowGap;
    }
  }
  return out;
}
