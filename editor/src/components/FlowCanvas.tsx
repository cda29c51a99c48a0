import '@xyflow/react/dist/style.css';
import type { Flow, NodeCounts, Problem } from '@sluice/shared';
import { Background, Controls, type FitViewOptions, MiniMap, ReactFlow, useNodesState } from '@xyflow/react';
import { useMemo } from 'react';
import { buildGraph, type CanvasNode } from '../lib/graph';
import { FitViewOnResize } from './FitViewOnResize';
import { kindColour } from './nodes/kinds';
import { nodeTypes } from './nodes/nodeTypes';
import { type CanvasOverlay, CanvasOverlayContext } from './nodes/overlay';

interface Props {
  flow: Flow;
  problems: Problem[];
  nodeCounts: Record<string, NodeCounts> | null;
  highlightNodeId: string | null;
}

const minimapColour = (node: CanvasNode) => kindColour(node.type);
const FIT: FitViewOptions = { padding: 0.08, maxZoom: 1.1 };

/** The open flow drawn as a graph; nodes can be moved around to look, nothing is saved. */
export function FlowCanvas({ flow, problems, nodeCounts, highlightNodeId }: Props) {
  const graph = useMemo(() => buildGraph(flow, problems), [flow, problems]);
  const [nodes, , onNodesChange] = useNodesState<CanvasNode>(graph.nodes);
  const overlay = useMemo<CanvasOverlay>(() => ({ nodeCounts, highlightNodeId }), [nodeCounts, highlightNodeId]);

  return (
    <CanvasOverlayContext.Provider value={overlay}>
      <div className="canvas" data-testid="canvas">
        <ReactFlow
          nodes={nodes}
          edges={graph.edges}
          nodeTypes={nodeTypes}
          onNodesChange={onNodesChange}
          nodesConnectable={false}
          edgesFocusable={false}
          deleteKeyCode={null}
          fitView
          fitViewOptions={FIT}
          minZoom={0.2}
        >
          <Background gap={20} color="#d4d8de" />
          <Controls showInteractive={false} />
          <MiniMap<CanvasNode>
            pannable
            zoomable
            nodeColor={minimapColour}
            nodeStrokeWidth={2}
            style={{ width: 150, height: 90 }}
          />
          <FitViewOnResize options={FIT} />
        </ReactFlow>
        {flow.nodes.length === 0 && <div className="canvas-empty">This flow has no nodes yet.</div>}
      </div>
    </CanvasOverlayContext.Provider>
  );
}
