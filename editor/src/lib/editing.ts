import {
  ERROR_PORT,
  type Flow,
  type FlowEdge,
  type FlowNode,
  type FlowNote,
  nodeTypes,
  PINNED_RECORDS_MAX,
} from '@sluice/shared';

/** The document being edited, with the steps to undo and redo. */
export interface EditorState {
  doc: Flow;
  past: Flow[];
  future: Flow[];
  /** The document as last saved, to tell whether there are unsaved changes. */
  saved: Flow;
}

export type EditAction =
  | { type: 'load'; doc: Flow }
  | { type: 'saved'; doc: Flow }
  | { type: 'add'; node: FlowNode }
  /** Adds a node fed by `after`'s main output, or spliced into the edge `onEdge` (by `edgeKey`). */
  | { type: 'insert'; node: FlowNode; after?: string; onEdge?: string }
  | {
      type: 'move';
      positions: Record<string, { x: number; y: number }>;
      notes?: Record<string, { x: number; y: number }>;
    }
  | { type: 'remove'; nodeIds: string[]; edgeIds: string[]; noteIds?: string[] }
  | { type: 'add-note'; note: FlowNote }
  /** Changes a sticky note: its text, colour, place or size. */
  | { type: 'update-note'; noteId: string; patch: Partial<Omit<FlowNote, 'id'>> }
  | { type: 'connect'; edge: FlowEdge }
  | { type: 'update'; nodeId: string; name?: string; params?: Record<string, unknown> }
  | { type: 'paste'; nodes: FlowNode[]; edges: FlowEdge[] }
  | { type: 'rename-flow'; name: string }
  | { type: 'pin'; nodeId: string; records: Record<string, unknown>[] }
  | { type: 'unpin'; nodeId: string }
  | { type: 'undo' }
  | { type: 'redo' };

const HISTORY = 100;

export function initialState(doc: Flow): EditorState {
  return { doc, past: [], future: [], saved: doc };
}

export const isDirty = (s: EditorState) => s.doc !== s.saved && JSON.stringify(s.doc) !== JSON.stringify(s.saved);

/** An edge's identity on the canvas: its own id, or its ends. */
export const edgeKey = (e: Pick<FlowEdge, 'id' | 'source' | 'sourcePort' | 'target'>) =>
  e.id ?? `${e.source}:${e.sourcePort}->${e.target}`;

/** Applies an edit; every change but `load` and `saved` can be undone. */
export function editReducer(state: EditorState, action: EditAction): EditorState {
  if (action.type === 'load') return initialState(action.doc);
  if (action.type === 'saved') return { ...state, doc: action.doc, saved: action.doc };
  if (action.type === 'undo') {
    const previous = state.past[state.past.length - 1];
    if (!previous) return state;
    return { ...state, doc: previous, past: state.past.slice(0, -1), future: [state.doc, ...state.future] };
  }
  if (action.type === 'redo') {
    const next = state.future[0];
    if (!next) return state;
    return { ...state, doc: next, past: [...state.past, state.doc].slice(-HISTORY), future: state.future.slice(1) };
  }
  const doc = apply(state.doc, action);
  if (doc === state.doc) return state;
  return { ...state, doc, past: [...state.past, state.doc].slice(-HISTORY), future: [] };
}

function apply(doc: Flow, action: Exclude<EditAction, { type: 'load' | 'saved' | 'undo' | 'redo' }>): Flow {
  switch (action.type) {
    case 'add':
      return { ...doc, nodes: [...doc.nodes, action.node] };
    case 'insert':
      return insertNode(doc, action.node, action);
    case 'move': {
      let changed = false;
      const nodes = doc.nodes.map((n) => {
        const p = action.positions[n.id];
        if (!p || (n.position && n.position.x === p.x && n.position.y === p.y)) return n;
        changed = true;
        return { ...n, position: { x: Math.round(p.x), y: Math.round(p.y) } };
      });
      const notes = doc.notes?.map((n) => {
        const p = action.notes?.[n.id];
        if (!p || (n.position.x === Math.round(p.x) && n.position.y === Math.round(p.y))) return n;
        changed = true;
        return { ...n, position: { x: Math.round(p.x), y: Math.round(p.y) } };
      });
      return changed ? { ...doc, nodes, ...(notes ? { notes } : {}) } : doc;
    }
    case 'remove': {
      const gone = new Set(action.nodeIds);
      const edgeGone = new Set(action.edgeIds);
      const noteGone = new Set(action.noteIds ?? []);
      const nodes = doc.nodes.filter((n) => !gone.has(n.id));
      const edges = doc.edges.filter((e) => !gone.has(e.source) && !gone.has(e.target) && !edgeGone.has(edgeKey(e)));
      const notes = doc.notes?.filter((n) => !noteGone.has(n.id));
      const sameNotes = (notes?.length ?? 0) === (doc.notes?.length ?? 0);
      if (nodes.length === doc.nodes.length && edges.length === doc.edges.length && sameNotes) return doc;
      const kept: Flow = { ...doc, nodes, edges, ...(notes ? { notes } : {}) };
      const pinned = doc.pinned && Object.fromEntries(Object.entries(doc.pinned).filter(([id]) => !gone.has(id)));
      if (!pinned || Object.keys(pinned).length === 0) {
        const { pinned: _none, ...rest } = kept;
        return rest;
      }
      return { ...kept, pinned };
    }
    case 'add-note':
      return { ...doc, notes: [...(doc.notes ?? []), action.note] };
    case 'update-note': {
      const note = doc.notes?.find((n) => n.id === action.noteId);
      if (!note) return doc;
      const next = { ...note, ...action.patch };
      if (next.position !== note.position)
        next.position = { x: Math.round(next.position.x), y: Math.round(next.position.y) };
      next.width = Math.round(next.width);
      next.height = Math.round(next.height);
      if (JSON.stringify(next) === JSON.stringify(note)) return doc;
      return { ...doc, notes: (doc.notes ?? []).map((n) => (n === note ? next : n)) };
    }
    case 'connect':
      if (connectProblem(doc, action.edge.source, action.edge.sourcePort, action.edge.target)) return doc;
      return { ...doc, edges: [...doc.edges, action.edge] };
    case 'update':
      return {
        ...doc,
        nodes: doc.nodes.map((n) => {
          if (n.id !== action.nodeId) return n;
          const next: FlowNode = { ...n };
          if (action.params) next.params = action.params;
          if (action.name !== undefined) {
            if (action.name.trim()) next.name = action.name;
            else delete next.name;
          }
          return next;
        }),
      };
    case 'paste':
      if (action.nodes.length === 0) return doc;
      return { ...doc, nodes: [...doc.nodes, ...action.nodes], edges: [...doc.edges, ...action.edges] };
    case 'rename-flow':
      return action.name === doc.name ? doc : { ...doc, name: action.name };
    case 'pin': {
      if (!doc.nodes.some((n) => n.id === action.nodeId)) return doc;
      const records = action.records.slice(0, PINNED_RECORDS_MAX);
      return { ...doc, pinned: { ...doc.pinned, [action.nodeId]: records } };
    }
    case 'unpin': {
      if (!doc.pinned?.[action.nodeId]) return doc;
      const { [action.nodeId]: _gone, ...rest } = doc.pinned;
      const next: Flow = { ...doc, pinned: rest };
      if (Object.keys(rest).length === 0) delete next.pinned;
      return next;
    }
  }
}

/**
 * Why an edge from `source`'s `port` to `target` is not allowed, or null when it is: the rules of
 * the flow format (see shared/src/validate.ts), checked while the user drags.
 */
export function connectProblem(doc: Flow, source: string, port: string, target: string): string | null {
  const from = doc.nodes.find((n) => n.id === source);
  const to = doc.nodes.find((n) => n.id === target);
  if (!from || !to) return 'both ends must be nodes of this flow';
  if (source === target) return 'a node cannot feed itself';
  const fromDef = nodeTypes.get(from.type);
  const toDef = nodeTypes.get(to.type);
  if (fromDef && !fromDef.outputs.includes(port)) return `${fromDef.label} has no "${port}" output`;
  if (toDef && !toDef.input) return `${toDef.label} takes no input (it starts runs)`;
  if (toDef?.role === 'error-handler' && port !== ERROR_PORT)
    return `an error branch takes only failed records: connect an "error" output to it`;
  if (doc.edges.some((e) => e.source === source && e.sourcePort === port && e.target === target))
    return 'these two are already connected';
  if (reaches(doc, target, source)) return 'that would make records go round in a cycle';
  return null;
}

/** The output a new edge leaves a node by: its first one that is not `error`. */
export function mainOutput(doc: Flow, nodeId: string): string | null {
  const node = doc.nodes.find((n) => n.id === nodeId);
  const outputs = node ? (nodeTypes.get(node.type)?.outputs ?? []) : [];
  return outputs.find((p) => p !== ERROR_PORT) ?? null;
}

/**
 * `doc` with `node` added and connected: after the node `after` (from its main output), or in the
 * middle of the edge `onEdge` (source → node → target). A connection the flow's rules refuse is left
 * out, and an edge the node cannot sit in stays as it was, so the node is then added on its own.
 */
export function insertNode(doc: Flow, node: FlowNode, where: { after?: string; onEdge?: string }): Flow {
  const added: Flow = { ...doc, nodes: [...doc.nodes, node] };
  if (where.after) {
    const port = mainOutput(added, where.after);
    if (!port || connectProblem(added, where.after, port, node.id)) return added;
    return { ...added, edges: [...added.edges, { source: where.after, sourcePort: port, target: node.id }] };
  }
  const edge = where.onEdge ? added.edges.find((e) => edgeKey(e) === where.onEdge) : undefined;
  const out = mainOutput(added, node.id);
  if (!edge || !out) return added;
  const without: Flow = { ...added, edges: added.edges.filter((e) => e !== edge) };
  if (connectProblem(without, edge.source, edge.sourcePort, node.id)) return added;
  const first: Flow = {
    ...without,
    edges: [...without.edges, { source: edge.source, sourcePort: edge.sourcePort, target: node.id }],
  };
  if (connectProblem(first, node.id, out, edge.target)) return added;
  const spliced = { ...first, edges: [...first.edges, { source: node.id, sourcePort: out, target: edge.target }] };
  return makeRoom(spliced, node.id, edge.source, edge.target);
}

/** Room a node takes across, with the gap to the next one. */
const NODE_STEP = 250;

/**
 * Puts a node spliced into an edge on its source's row, a step right of it, and moves everything
 * downstream of it right as far as needed so it does not cover the next node.
 */
function makeRoom(doc: Flow, id: string, source: string, target: string): Flow {
  const from = doc.nodes.find((n) => n.id === source)?.position;
  const to = doc.nodes.find((n) => n.id === target)?.position;
  if (!from || !to) return doc;
  const x = from.x + NODE_STEP;
  const shift = Math.max(0, x + NODE_STEP - to.x);
  const downstream = new Set<string>();
  const stack = [target];
  while (stack.length) {
    const at = stack.pop() as string;
    if (downstream.has(at) || at === id) continue;
    downstream.add(at);
    for (const e of doc.edges) if (e.source === at) stack.push(e.target);
  }
  return {
    ...doc,
    nodes: doc.nodes.map((n) => {
      if (n.id === id) return { ...n, position: { x, y: from.y } };
      if (shift > 0 && n.position && downstream.has(n.id))
        return { ...n, position: { ...n.position, x: n.position.x + shift } };
      return n;
    }),
  };
}

function reaches(doc: Flow, from: string, to: string): boolean {
  const seen = new Set<string>();
  const stack = [from];
  while (stack.length) {
    const id = stack.pop() as string;
    if (id === to) return true;
    if (seen.has(id)) continue;
    seen.add(id);
    for (const e of doc.edges) if (e.source === id) stack.push(e.target);
  }
  return false;
}

/** A fresh id for a node of `type`: the type's name and the first free number. */
export function newNodeId(doc: Flow, type: string, taken: ReadonlySet<string> = new Set()): string {
  const ids = new Set([...doc.nodes.map((n) => n.id), ...taken]);
  for (let i = 1; ; i++) {
    const id = `${type}-${i}`;
    if (!ids.has(id)) return id;
  }
}

/** A new node of a catalogue type with its parameters' defaults. */
export function createNode(doc: Flow, type: string, position: { x: number; y: number }): FlowNode {
  const def = nodeTypes.get(type);
  const parsed = def?.params.safeParse({});
  const params = parsed?.success ? (parsed.data as Record<string, unknown>) : {};
  return { id: newNodeId(doc, type), type, params, position: { x: Math.round(position.x), y: Math.round(position.y) } };
}

/** A new sticky note at `position` with the first free id `note-N`, yellow, 240 × 160. */
export function createNote(doc: Flow, position: { x: number; y: number }, text = ''): FlowNote {
  const ids = new Set((doc.notes ?? []).map((n) => n.id));
  let i = 1;
  while (ids.has(`note-${i}`)) i++;
  return {
    id: `note-${i}`,
    text,
    colour: 'yellow',
    position: { x: Math.round(position.x), y: Math.round(position.y) },
    width: 240,
    height: 160,
  };
}

export interface Clipboard {
  nodes: FlowNode[];
  edges: FlowEdge[];
}

/** The selected nodes and the edges between them. */
export function copySelection(doc: Flow, ids: readonly string[]): Clipboard {
  const chosen = new Set(ids);
  return {
    nodes: doc.nodes.filter((n) => chosen.has(n.id)),
    edges: doc.edges.filter((e) => chosen.has(e.source) && chosen.has(e.target)),
  };
}

/** The clipboard's nodes with fresh ids, moved by `offset`, and their edges renamed to match. */
export function pasteable(doc: Flow, clip: Clipboard, offset = 40): Clipboard {
  const renamed = new Map<string, string>();
  const taken = new Set<string>();
  const nodes = clip.nodes.map((n) => {
    const id = newNodeId(doc, n.type, taken);
    taken.add(id);
    renamed.set(n.id, id);
    const position = n.position ? { x: n.position.x + offset, y: n.position.y + offset } : undefined;
    return { ...n, id, ...(position ? { position } : {}) };
  });
  const edges = clip.edges.map((e) => {
    const { id: _dropped, ...rest } = e;
    return { ...rest, source: renamed.get(e.source) as string, target: renamed.get(e.target) as string };
  });
  return { nodes, edges };
}
