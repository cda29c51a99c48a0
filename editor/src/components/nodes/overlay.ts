import type { NodeCounts } from '@sluice/shared';
import { createContext, useContext } from 'react';

/** What a run adds to the canvas: counts per node, and the node a selected record failed at. */
export interface CanvasOverlay {
  nodeCounts: Record<string, NodeCounts> | null;
  highlightNodeId: string | null;
}

export const CanvasOverlayContext = createContext<CanvasOverlay>({ nodeCounts: null, highlightNodeId: null });

export function useCanvasOverlay(): CanvasOverlay {
  return useContext(CanvasOverlayContext);
}
