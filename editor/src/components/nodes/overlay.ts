import type { NodeCounts } from '@sluice/shared';
import { createContext, useContext } from 'react';

/** What a run adds to the canvas: counts per node, and the node a selected record failed at. */
export interface CanvasOverlay {
  nodeCounts: Record<string, NodeCounts> | null;
  highlightNodeId: string | null;
  /** The nodes a selected record went through on its way to `highlightNodeId`. */
  highlightPath?: string[];
  /** What the run is waiting for right now: a delay counting down, a rate limit, an open breaker, a connection's limit. */
  waiting: {
    kind: string;
    nodeId: string;
    until: string;
    connection?: string;
    limits?: { maxConcurrent?: number; maxPerSecond?: number };
  } | null;
  /** The batch the run is at, and how many there will be when the source says. */
  batchProgress: { current: number; total: number | null } | null;
}

export const CanvasOverlayContext = createContext<CanvasOverlay>({
  nodeCounts: null,
  highlightNodeId: null,
  waiting: null,
  batchProgress: null,
});

export function useCanvasOverlay(): CanvasOverlay {
  return useContext(CanvasOverlayContext);
}
