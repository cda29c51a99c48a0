import '@xyflow/react/dist/style.css';
import type { Flow, NodeCounts, Problem } from '@sluice/shared';
import {
  Background,
  type Connection,
  Controls,
  type Edge,
  type FitViewOptions,
  MiniMap,
  type OnSelectionChangeParams,
  ReactFlow,
  ReactFlowProvider,
  useEdgesState,
  useNodesState,
  useReactFlow,
  useStore,
} from '@xyflow/react';
import { type DragEvent, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { connectProblem, createNode, type EditAction } from '../lib/editing';
import { buildGraph, type CanvasNode } from '../lib/graph';
import { kindColour } from './nodes/kinds';
import { nodeTypes } from './nodes/nodeTypes';
import { type CanvasOverlay, CanvasOverlayContext } from './nodes/overlay';
import { DRAG_TYPE } from './Palette';

interface Props {
  doc: Flow;
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

const minimapColour = (node: CanvasNode) => kindColour(node.type);
const FIT: FitViewOptions = { padding: 0.08, maxZoom: 1.1 };

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
  const [nodes, setNodes, onNodesChange] = useNodesState<CanvasNode>(graph.nodes);
  const [edges, setEdges, onEdgesChange] = useEdgesState<Edge>(graph.edges);
  const { screenToFlowPosition } = useReactFlow();
  const refusal = useRef<string | null>(null);
  const [initiallyFilled] = useState(doc.nodes.length > 0);
  const [openedDoc] = useState(doc);

  // the document is the truth: redraw from it, keeping what the user has selected
  useEffect(() => {
    setNodes((current) => {
      const selected = new Set(current.filter((n) => n.selected).map((n) => n.id));
      return graph.nodes.map((n) => (selected.has(n.id) ? { ...n, selected: true } : n));
    });
    setEdges((current) => {
      const selected = new Set(current.filter((e) => e.selected).map((e) => e.id));
      return graph.edges.map((e) => ({
        ...e,
        animated: running && e.sourceHandle !== 'error',
        ...(selected.has(e.id) ? { selected: true } : {}),
      }));
    });
  }, [graph, running, setNodes, setEdges]);

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

  const onDrop = useCallback(
    (event: DragEvent) => {
      event.preventDefault();
      const type = event.dataTransfer.getData(DRAG_TYPE);
      if (!type || readOnly) return;
      const at = screenToFlowPosition({ x: event.clientX, y: event.clientY });
      dispatch({ type: 'add', node: createNode(doc, type, { x: at.x - 100, y: at.y - 40 }) });
    },
    [dispatch, doc, readOnly, screenToFlowPosition],
  );

  const onSelectionChange = useCallback(
    ({ nodes: n, edges: e }: OnSelectionChangeParams) =>
      onSelect?.({ nodes: n.map((x) => x.id), edges: e.map((x) => x.id) }),
    [onSelect],
  );

  return (
    <CanvasOverlayContext.Provider value={overlay}>
      <div className="canvas" data-testid="canvas">
        <ReactFlow
          onDragOver={(e) => e.preventDefault()}
          onDrop={onDrop}
          nodes={nodes}
          edges={edges}
          nodeTypes={nodeTypes}
          onNodesChange={onNodesChange}
          onEdgesChange={onEdgesChange}
          onNodeDragStop={(_event, _node, moved) =>
            dispatch({ type: 'move', positions: Object.fromEntries(moved.map((n) => [n.id, n.position])) })
          }
          onDelete={({ nodes: n, edges: e }) =>
            dispatch({ type: 'remove', nodeIds: n.map((x) => x.id), edgeIds: e.map((x) => x.id) })
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
          // fit a flow that has nodes when it opens; an empty one keeps its scale, so drops land where they fall
          fitView={initiallyFilled}
          fitViewOptions={FIT}
          minZoom={0.1}
        >
          <Background gap={20} color="#d4d8de" />
          <Controls showInteractive={false} />
          {initiallyFilled && doc === openedDoc && <FitOnResize />}
          <MiniMap<CanvasNode>
            pannable
            zoomable
            nodeColor={minimapColour}
            nodeStrokeWidth={2}
            style={{ width: 150, height: 90 }}
          />
        </ReactFlow>
        {doc.nodes.length === 0 && (
          <div className="canvas-empty">
            Drag a trigger, a source and the steps you need from the palette on the left.
          </div>
        )}
      </div>
    </CanvasOverlayContext.Provider>
  );
}

/** Until the flow is edited, keeps all of it in view when the canvas changes size (panels opening, the window). */
function FitOnResize() {
  const { fitView } = useReactFlow();
  const width = useStore((st) => st.width);
  const height = useStore((st) => st.height);
  useEffect(() => {
    if (width > 0 && height > 0) void fitView(FIT);
  }, [width, height, fitView]);
  return null;
}
