import { type Flow, validateFlow } from '@sluice/shared';
import { describe, expect, it } from 'vitest';
import {
  connectProblem,
  copySelection,
  createNode,
  createNote,
  editReducer,
  initialState,
  isDirty,
  pasteable,
} from './editing';

const flow = (): Flow => {
  const result = validateFlow({
    format: 1,
    name: 'Edit me',
    nodes: [
      { id: 'start', type: 'manual', position: { x: 0, y: 0 } },
      { id: 'src', type: 'generate', params: { count: 10 }, position: { x: 200, y: 0 } },
      { id: 'write', type: 'http-write', params: { url: 'http://erp.test/x' }, position: { x: 400, y: 0 } },
      { id: 'rejects', type: 'error-branch', position: { x: 600, y: 100 } },
    ],
    edges: [
      { source: 'start', target: 'src' },
      { source: 'src', target: 'write' },
    ],
  });
  if (!result.flow) throw new Error('bad fixture');
  return result.flow;
};

describe('editing a flow', () => {
  it('adds a node with its type’s defaults and a fresh id, and undoes and redoes it', () => {
    let s = initialState(flow());
    const node = createNode(s.doc, 'batch', { x: 10.4, y: 20.6 });
    expect(node).toEqual({ id: 'batch-1', type: 'batch', params: { size: 50 }, position: { x: 10, y: 21 } });
    s = editReducer(s, { type: 'add', node });
    expect(s.doc.nodes.map((n) => n.id)).toContain('batch-1');
    expect(isDirty(s)).toBe(true);
    s = editReducer(s, { type: 'undo' });
    expect(s.doc.nodes.map((n) => n.id)).not.toContain('batch-1');
    expect(isDirty(s)).toBe(false);
    s = editReducer(s, { type: 'redo' });
    expect(s.doc.nodes.map((n) => n.id)).toContain('batch-1');
    expect(createNode(s.doc, 'batch', { x: 0, y: 0 }).id).toBe('batch-2');
  });

  it('removes nodes with their edges, and edges on their own', () => {
    let s = initialState(flow());
    s = editReducer(s, { type: 'remove', nodeIds: ['src'], edgeIds: [] });
    expect(s.doc.nodes.map((n) => n.id)).toEqual(['start', 'write', 'rejects']);
    expect(s.doc.edges).toEqual([]);
    s = editReducer(initialState(flow()), { type: 'remove', nodeIds: [], edgeIds: ['src:out->write'] });
    expect(s.doc.edges.map((e) => `${e.source}->${e.target}`)).toEqual(['start->src']);
  });

  it('refuses the connections the flow format forbids, saying why', () => {
    const doc = flow();
    expect(connectProblem(doc, 'write', 'error', 'rejects')).toBeNull();
    expect(connectProblem(doc, 'write', 'out', 'rejects')).toMatch(/error branch takes only failed records/);
    expect(connectProblem(doc, 'src', 'out', 'start')).toMatch(/takes no input/);
    expect(connectProblem(doc, 'write', 'out', 'src')).toMatch(/cycle/);
    expect(connectProblem(doc, 'src', 'out', 'src')).toMatch(/itself/);
    expect(connectProblem(doc, 'src', 'out', 'write')).toMatch(/already connected/);
    expect(connectProblem(doc, 'src', 'true', 'write')).toMatch(/no "true" output/);
    const s = editReducer(initialState(doc), {
      type: 'connect',
      edge: { source: 'write', sourcePort: 'out', target: 'src' },
    });
    expect(s.doc).toBe(doc);
  });

  it('moves nodes as one undoable step and ignores moves that change nothing', () => {
    let s = initialState(flow());
    const same = editReducer(s, { type: 'move', positions: { src: { x: 200, y: 0 } } });
    expect(same).toBe(s);
    s = editReducer(s, { type: 'move', positions: { src: { x: 250, y: 50 }, write: { x: 450, y: 50 } } });
    expect(s.doc.nodes.find((n) => n.id === 'write')?.position).toEqual({ x: 450, y: 50 });
    s = editReducer(s, { type: 'undo' });
    expect(s.doc.nodes.find((n) => n.id === 'write')?.position).toEqual({ x: 400, y: 0 });
  });

  it('changes parameters and names; a blank name goes back to the type’s label', () => {
    let s = initialState(flow());
    s = editReducer(s, { type: 'update', nodeId: 'src', params: { count: 500 }, name: 'Five hundred' });
    expect(s.doc.nodes.find((n) => n.id === 'src')).toMatchObject({ params: { count: 500 }, name: 'Five hundred' });
    s = editReducer(s, { type: 'update', nodeId: 'src', name: '  ' });
    expect(s.doc.nodes.find((n) => n.id === 'src')?.name).toBeUndefined();
  });

  it('copies a selection with the edges inside it and pastes it with fresh ids, offset', () => {
    const doc = flow();
    const clip = copySelection(doc, ['src', 'write']);
    expect(clip.edges).toHaveLength(1);
    const pasted = pasteable(doc, clip);
    expect(pasted.nodes.map((n) => [n.id, n.position])).toEqual([
      ['generate-1', { x: 240, y: 40 }],
      ['http-write-1', { x: 440, y: 40 }],
    ]);
    expect(pasted.edges).toEqual([{ source: 'generate-1', sourcePort: 'out', target: 'http-write-1' }]);
    const s = editReducer(initialState(doc), { type: 'paste', ...pasted });
    expect(validateFlow(s.doc).problems.filter((p) => p.severity === 'error')).toEqual([]);
  });

  it('keeps a hundred steps of history and forgets the future on a new edit', () => {
    let s = initialState(flow());
    for (let i = 0; i < 120; i++) s = editReducer(s, { type: 'rename-flow', name: `Name ${i}` });
    expect(s.past).toHaveLength(100);
    s = editReducer(editReducer(s, { type: 'undo' }), { type: 'rename-flow', name: 'Other' });
    expect(s.future).toEqual([]);
    const saved = editReducer(s, { type: 'saved', doc: s.doc });
    expect(isDirty(saved)).toBe(false);
  });

  it('inserts a node after another, connected from its main output, as one step to undo', () => {
    let s = initialState(flow());
    const node = createNode(s.doc, 'batch', { x: 600, y: 0 });
    s = editReducer(s, { type: 'insert', node, after: 'write' });
    expect(s.doc.edges).toContainEqual({ source: 'write', sourcePort: 'out', target: 'batch-1' });
    s = editReducer(s, { type: 'undo' });
    expect(s.doc.nodes.map((n) => n.id)).not.toContain('batch-1');
    expect(s.doc.edges).toHaveLength(2);
  });

  it('adds the node unconnected when the rules refuse the connection', () => {
    const s = initialState(flow());
    // a trigger takes no input; an error branch takes only failed records
    const trigger = createNode(s.doc, 'schedule', { x: 0, y: 0 });
    const afterTrigger = editReducer(s, { type: 'insert', node: trigger, after: 'src' }).doc;
    expect(afterTrigger.nodes.map((n) => n.id)).toContain(trigger.id);
    expect(afterTrigger.edges).toHaveLength(2);
    const branch = createNode(s.doc, 'error-branch', { x: 0, y: 0 });
    expect(editReducer(s, { type: 'insert', node: branch, after: 'src' }).doc.edges).toHaveLength(2);
  });

  it('splices a node dropped on an edge between the edge’s ends', () => {
    let s = initialState(flow());
    const node = createNode(s.doc, 'batch', { x: 300, y: 0 });
    s = editReducer(s, { type: 'insert', node, onEdge: 'src:out->write' });
    expect(s.doc.edges).toEqual([
      { source: 'start', sourcePort: 'out', target: 'src' },
      { source: 'src', sourcePort: 'out', target: 'batch-1' },
      { source: 'batch-1', sourcePort: 'out', target: 'write' },
    ]);
    expect(validateFlow(s.doc).problems.filter((p) => p.severity === 'error')).toEqual([]);
    // it sits a step right of the edge's source, and what follows moved right to make room
    const at = (id: string) => s.doc.nodes.find((n) => n.id === id)?.position;
    expect(at('batch-1')).toEqual({ x: 450, y: 0 });
    expect(at('write')).toEqual({ x: 700, y: 0 });
    expect(at('start')).toEqual({ x: 0, y: 0 });
  });

  it('keeps the edge whole when the dropped node cannot sit in it', () => {
    const s = initialState(flow());
    const trigger = createNode(s.doc, 'manual', { x: 300, y: 0 });
    const doc = editReducer(s, { type: 'insert', node: trigger, onEdge: 'src:out->write' }).doc;
    expect(doc.nodes).toHaveLength(5);
    expect(doc.edges).toEqual(s.doc.edges);
  });

  it('adds, edits, moves, resizes and removes sticky notes, each an undoable step', () => {
    let s = initialState(flow());
    const note = createNote(s.doc, { x: 10.4, y: -20.6 }, '# Why');
    expect(note).toEqual({
      id: 'note-1',
      text: '# Why',
      colour: 'yellow',
      position: { x: 10, y: -21 },
      width: 240,
      height: 160,
    });
    s = editReducer(s, { type: 'add-note', note });
    expect(createNote(s.doc, { x: 0, y: 0 }).id).toBe('note-2');
    s = editReducer(s, {
      type: 'update-note',
      noteId: 'note-1',
      patch: { text: '# Why\n**batches of 50**', colour: 'blue' },
    });
    s = editReducer(s, {
      type: 'update-note',
      noteId: 'note-1',
      patch: { width: 320.2, height: 200, position: { x: 5, y: 5 } },
    });
    s = editReducer(s, { type: 'move', positions: {}, notes: { 'note-1': { x: 100, y: 50 } } });
    expect(s.doc.notes).toEqual([
      {
        id: 'note-1',
        text: '# Why\n**batches of 50**',
        colour: 'blue',
        position: { x: 100, y: 50 },
        width: 320,
        height: 200,
      },
    ]);
    // the notes go with the document and leave its nodes and edges alone, so runs are as before
    expect(validateFlow(s.doc).problems).toEqual(validateFlow(flow()).problems);
    const past = s.past.length;
    expect(editReducer(s, { type: 'update-note', noteId: 'note-1', patch: { colour: 'blue' } })).toBe(s);
    expect(editReducer(s, { type: 'update-note', noteId: 'nope', patch: { colour: 'pink' } })).toBe(s);
    s = editReducer(s, { type: 'remove', nodeIds: [], edgeIds: [], noteIds: ['note-1'] });
    expect(s.doc.notes).toEqual([]);
    expect(s.past.length).toBe(past + 1);
    s = editReducer(s, { type: 'undo' });
    expect(s.doc.notes?.[0]?.position).toEqual({ x: 100, y: 50 });
    s = editReducer(s, { type: 'undo' });
    expect(s.doc.notes?.[0]?.position).toEqual({ x: 5, y: 5 });
  });
});

describe('pinned data', () => {
  const records = [
    { key: 'a', n: 1 },
    { key: 'b', n: 2 },
  ];

  it('pins a node’s records with the flow (a change to save, undoable), and unpins them', () => {
    let s = initialState(flow());
    s = editReducer(s, { type: 'pin', nodeId: 'src', records });
    expect(s.doc.pinned).toEqual({ src: records });
    expect(isDirty(s)).toBe(true);
    expect(validateFlow(s.doc).ok).toBe(true);
    s = editReducer(s, { type: 'undo' });
    expect(s.doc.pinned).toBeUndefined();
    s = editReducer(s, { type: 'redo' });
    s = editReducer(s, { type: 'unpin', nodeId: 'src' });
    expect(s.doc).not.toHaveProperty('pinned');
    expect(isDirty(s)).toBe(false);
  });

  it('refuses a node that is not in the flow, keeps at most the format’s bound, and drops a removed node’s data', () => {
    let s = initialState(flow());
    expect(editReducer(s, { type: 'pin', nodeId: 'nope', records })).toBe(s);
    const many = Array.from({ length: 500 }, (_, i) => ({ i }));
    s = editReducer(s, { type: 'pin', nodeId: 'src', records: many });
    expect(s.doc.pinned?.src).toHaveLength(100);
    expect(validateFlow(s.doc).ok).toBe(true);
    s = editReducer(s, { type: 'remove', nodeIds: ['src'], edgeIds: [] });
    expect(s.doc).not.toHaveProperty('pinned');
  });
});
