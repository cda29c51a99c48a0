import '@xyflow/react/dist/style.css';
import type { Flow, NodeCounts, Problem } from '@sluice/shared';
import {
  Background,
  type Connection,
  type Edge,
  type FitViewOptions,
  type OnSelectionChangeParams,
  ReactFlow,
  ReactFlowProvider,
  useEdgesState,
  useNodesState,
  useReactFlow,
} from '@xyflow/react';
import { type DragEvent, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { connectProblem, createNode, createNote, type EditAction } from '../lib/editing';
import { buildGraph, type CanvasNode } from '../lib/graph';
import { useTheme } from '../lib/theme';
import { AutoFit } from './canvas/AutoFit';
import { edgeTypes } from './canvas/LabelledEdge';
import { NodeSearch } from './canvas/NodeSearch';
import { useStepSearch } from './canvas/useStepSearch';
import { loadViewTools, saveViewTools, ViewControls, type ViewTools } from './canvas/ViewControls';
import { ZoomScale } from './canvas/ZoomScale';
import { NoteEditContext, type NoteNode, noteIdOf, noteNodeId } from './nodes/NoteCard';
import { nodeTypes } from './nodes/nodeTypes';
import { type CanvasOverlay, CanvasOverlayContext } from './nodes/overlay';
import { DRAG_TYPE } from './Palette';

interface Props {
  doc: Flow;
  /** The document as it was opened (a flow, an import, a version): the view fits it once drawn. */
  openedDoc?: Flow;
  problems: Problem[];
  nodeCounts: Record<string, NodeCounts> | null;
  highlightNodeId: string | null;
  highlightPath?: string[];
  waiting?: CanvasOverlay['waiting'];
  batchProgress?: CanvasOverlay['batchProgress'];
  /** A run is going: edges carrying records move. */
  running?: boolean;
  readOnly?: boolean;
  dispatch: (action: EditAction) => void;
  onSelect?: (selection: { nodes: string[]; edges: string[] }) => void;
  /** Says why a connection the user tried was refused. */
  onRefused?: (message: string) => void;
}

/** Fit with a strip free along the bottom for the zoom buttons and, when shown, the minimap. */
const fitOptions = (tools: ViewTools): FitViewOptions => ({
  padding: { top: '24px', left: '24px', right: '24px', bottom: `${tools.minimap ? 116 : tools.controls ? 56 : 32}px` },
  maxZoom: 1.1,
  minZoom: 0.1,
  duration: 0,
});

/** The flow drawn as a graph, edited in place: drop steps from the palette, connect ports, move, delete. */
export function FlowCanvas(props: Props) {
  return (
    <ReactFlowProvider>
      <EditableCanvas {...props} />
    </ReactFlowProvider>
  );
}

function EditableCanvas({
  doc,
  openedDoc,
  problems,
  nodeCounts,
  highlightNodeId,
  highlightPath,
  waiting = null,
  batchProgress = null,
  running = false,
  readOnly = false,
  dispatch,
  onSelect,
  onRefused,
}: Props) {
  const graph = useMemo(() => buildGraph(doc, problems), [doc, problems]);
  const notes = useMemo(() => noteNodes(doc), [doc]);
  const [nodes, setNodes, onNodesChange] = useNodesState<CanvasNode | NoteNode>([...notes, ...graph.nodes]);
  const [edges, setEdges, onEdgesChange] = useEdgesState<Edge>(graph.edges);
  const { screenToFlowPosition } = useReactFlow();
  const refusal = useRef<string | null>(null);
  const wrapper = useRef<HTMLDivElement>(null);
  const userMoved = useRef(false);
  const { theme } = useTheme();
  const [tools, setTools] = useState(loadViewTools);
  const fit = useMemo(() => fitOptions(tools), [tools]);
  const changeTools = useCallback((next: ViewTools) => {
    setTools(next);
    saveViewTools(next);
  }, []);
  const pendingSelect = useRef<string | null>(null);
  const flowNodes = useMemo(() => nodes.filter((n): n is CanvasNode => n.type !== 'note'), [nodes]);
  const steps = useStepSearch({
    doc,
    nodes: flowNodes,
    readOnly,
    wrapper,
    dispatch,
    onInserted: (id) => {
      pendingSelect.current = id;
    },
  });

  // the document is the truth: redraw from it, keeping what the user has selected
  useEffect(() => {
    setNodes((current) => {
      // a node just inserted is selected alone, so the inspector opens on it
      const all = [...notes, ...graph.nodes];
      const pending = pendingSelect.current;
      if (pending && all.some((n) => n.id === pending)) {
        pendingSelect.current = null;
        return all.map((n) => (n.id === pending ? { ...n, selected: true } : n));
      }
      const selected = new Set(current.filter((n) => n.selected).map((n) => n.id));
      return all.map((n) => (selected.has(n.id) ? { ...n, selected: true } : n));
    });
    setEdges((current) => {
      const selected = new Set(current.filter((e) => e.selected).map((e) => e.id));
      return graph.edges.map((e) => ({
        ...e,
        animated: running && e.sourceHandle !== 'error',
        ...(selected.has(e.id) ? { selected: true } : {}),
      }));
    });
  }, [graph, notes, running, setNodes, setEdges]);

  const overlay = useMemo<CanvasOverlay>(
    () => ({ nodeCounts, highlightNodeId, waiting, batchProgress, ...(highlightPath ? { highlightPath } : {}) }),
    [nodeCounts, highlightNodeId, highlightPath, waiting, batchProgress],
  );

  const isValidConnection = useCallback(
    (c: Connection | Edge) => {
      const problem = connectProblem(doc, c.source, c.sourceHandle ?? 'out', c.target);
      refusal.current = problem;
      return problem === null;
    },
    [doc],
  );

  const onConnect = useCallback(
    (c: Connection) => {
      refusal.current = null;
      dispatch({ type: 'connect', edge: { source: c.source, sourcePort: c.sourceHandle ?? 'out', target: c.target } });
    },
    [dispatch],
  );

  const onConnectEnd = useCallback(() => {
    if (refusal.current) onRefused?.(refusal.current);
    refusal.current = null;
  }, [onRefused]);

  const dropTarget = useRef<Element | null>(null);
  const markDropTarget = useCallback((edge: Element | null) => {
    if (dropTarget.current === edge) return;
    dropTarget.current?.classList.remove('is-drop-target');
    edge?.classList.add('is-drop-target');
    dropTarget.current = edge;
  }, []);

  const onDragOver = useCallback(
    (event: DragEvent) => {
      event.preventDefault();
      if (!readOnly) markDropTarget(edgeAt(event.clientX, event.clientY));
    },
    [markDropTarget, readOnly],
  );

  // a step dropped on an edge goes in the middle of it; elsewhere it is added on its own
  const onDrop = useCallback(
    (event: DragEvent) => {
      event.preventDefault();
      markDropTarget(null);
      const type = event.dataTransfer.getData(DRAG_TYPE);
      if (!type || readOnly) return;
      const at = screenToFlowPosition({ x: event.clientX, y: event.clientY });
      const node = createNode(doc, type, { x: at.x - 95, y: at.y - 40 });
      const edge = edgeAt(event.clientX, event.clientY)?.getAttribute('data-id');
      dispatch(edge ? { type: 'insert', node, onEdge: edge.replace(/'+$/, '') } : { type: 'add', node });
    },
    [dispatch, doc, markDropTarget, readOnly, screenToFlowPosition],
  );

  const noteEdits = useMemo(() => ({ dispatch, readOnly }), [dispatch, readOnly]);
  // a new note goes in the middle of the view, selected, ready to be written in
  const addNote = useCallback(() => {
    const box = wrapper.current?.getBoundingClientRect();
    if (!box) return;
    const at = screenToFlowPosition({ x: box.left + box.width / 2, y: box.top + box.height / 2 });
    const note = createNote(doc, { x: at.x - 120, y: at.y - 80 });
    pendingSelect.current = noteNodeId(note.id);
    dispatch({ type: 'add-note', note });
  }, [dispatch, doc, screenToFlowPosition]);

  const onSelectionChange = useCallback(
    ({ nodes: n, edges: e }: OnSelectionChangeParams) =>
      onSelect?.({ nodes: n.filter((x) => !noteIdOf(x.id)).map((x) => x.id), edges: e.map((x) => x.id) }),
    [onSelect],
  );

  return (
    <CanvasOverlayContext.Provider value={overlay}>
      <NoteEditContext.Provider value={noteEdits}>
        <div
          className="canvas"
          data-testid="canvas"
          ref={wrapper}
          onPointerMove={steps.onPointerMove}
          onPointerLeave={steps.onPointerLeave}
        >
          <ReactFlow
            onDragOver={onDragOver}
            onDragLeave={() => markDropTarget(null)}
            onDrop={onDrop}
            nodes={nodes}
            edges={edges}
            nodeTypes={nodeTypes}
            edgeTypes={edgeTypes}
            onNodesChange={onNodesChange}
            onEdgesChange={onEdgesChange}
            onNodeDragStop={(_event, _node, moved) => {
              const positions: Record<string, { x: number; y: number }> = {};
              const notePositions: Record<string, { x: number; y: number }> = {};
              for (const n of moved) {
                const note = noteIdOf(n.id);
                if (note) notePositions[note] = n.position;
                else positions[n.id] = n.position;
              }
              dispatch({ type: 'move', positions, notes: notePositions });
            }}
            onDelete={({ nodes: n, edges: e }) =>
              dispatch({
                type: 'remove',
                nodeIds: n.filter((x) => !noteIdOf(x.id)).map((x) => x.id),
                noteIds: n.map((x) => noteIdOf(x.id)).filter((x): x is string => x !== null),
                edgeIds: e.map((x) => x.id),
              })
            }
            onConnect={onConnect}
            onConnectEnd={onConnectEnd}
            isValidConnection={isValidConnection}
            onSelectionChange={onSelectionChange}
            nodesDraggable={!readOnly}
            nodesConnectable={!readOnly}
            elementsSelectable
            deleteKeyCode={readOnly ? null : ['Delete', 'Backspace']}
            multiSelectionKeyCode={['Shift', 'Meta', 'Control']}
            minZoom={0.1}
            colorMode={theme}
            onMoveStart={(event) => {
              // a move with an event is the user's (wheel, drag, pinch); fitting passes none
              if (event) userMoved.current = true;
            }}
          >
            <Background gap={20} color="var(--canvas-dots)" />
            <ZoomScale target={wrapper} />
            <AutoFit
              opened={openedDoc ?? null}
              showingOpened={openedDoc !== undefined && doc === openedDoc && doc.nodes.length > 0}
              options={fit}
              userMoved={userMoved}
            />
            <ViewControls
              tools={tools}
              onChange={changeTools}
              fitOptions={fit}
              onFit={() => {
                userMoved.current = false;
              }}
              onZoom={() => {
                userMoved.current = true;
              }}
              {...(readOnly ? {} : { onAddNote: addNote })}
            />
          </ReactFlow>
          {steps.search && (
            <NodeSearch at={steps.search.at} where={steps.search.where} onPick={steps.pick} onClose={steps.close} />
          )}
          {doc.nodes.length === 0 && (
            <div className="canvas-empty">
              Drag a trigger, a source and the steps you need from the palette on the left.
            </div>
          )}
        </div>
      </NoteEditContext.Provider>
    </CanvasOverlayContext.Provider>
  );
}

/** The edge drawn under a point of the window, if any (its wide invisible outline counts). */
function edgeAt(x: number, y: number): Element | null {
  for (const el of document.elementsFromPoint(x, y)) {
    const edge = el.closest('.react-flow__edge');
    if (edge) return edge;
  }
  return null;
}

/** The flow's sticky notes as canvas nodes, drawn under the steps. */
function noteNodes(doc: Flow): NoteNode[] {
  return (doc.notes ?? []).map((note) => ({
    id: noteNodeId(note.id),
    type: 'note',
    position: note.position,
    width: note.width,
    height: note.height,
    zIndex: -1,
    data: { note },
  }));
}
