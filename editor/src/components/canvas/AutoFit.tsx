import { type FitViewOptions, type ReactFlowState, useNodesInitialized, useReactFlow, useStore } from '@xyflow/react';
import { type RefObject, useEffect, useRef } from 'react';

interface Props {
  /** The document as opened; a new one (open, import, another flow or version) is fitted once drawn. */
  opened: unknown;
  /** The canvas shows `opened` itself (not an edit of it) and it has nodes. */
  showingOpened: boolean;
  options: FitViewOptions;
  /** Set when the user pans or zooms: from then on a resize leaves the view where the user put it. */
  userMoved: RefObject<boolean>;
}

/** The drawn flow's extent, as a key that changes when a node grows (counts shown) or moves. */
function extent(s: ReactFlowState): string {
  let left = Infinity;
  let top = Infinity;
  let right = -Infinity;
  let bottom = -Infinity;
  for (const n of s.nodeLookup.values()) {
    const { x, y } = n.internals.positionAbsolute;
    left = Math.min(left, x);
    top = Math.min(top, y);
    right = Math.max(right, x + (n.measured.width ?? 0));
    bottom = Math.max(bottom, y + (n.measured.height ?? 0));
  }
  return `${Math.round(left)},${Math.round(top)},${Math.round(right)},${Math.round(bottom)}`;
}

/**
 * Fits the whole flow in view when a flow is opened, and again whenever the canvas changes size
 * (the window, the dock, a side panel, the minimap shown) or its nodes grow (a run's counts shown),
 * until the user moves the view or edits the flow.
 */
export function AutoFit({ opened, showingOpened, options, userMoved }: Props) {
  const { fitView } = useReactFlow();
  const initialized = useNodesInitialized();
  const width = useStore((s) => s.width);
  const height = useStore((s) => s.height);
  const drawn = useStore(extent);
  const fittedFor = useRef<unknown>(null);
  // extents already fitted: a fit that changes the zoom can switch the counts' layout and so the
  // extent; fitting each extent once keeps that from going back and forth
  const fittedExtents = useRef(new Set<string>());

  useEffect(() => {
    if (!initialized || !showingOpened || fittedFor.current === opened) return;
    fittedFor.current = opened;
    fittedExtents.current = new Set([drawn]);
    userMoved.current = false;
    void fitView(options);
  }, [initialized, showingOpened, opened, options, fitView, userMoved, drawn]);

  useEffect(() => {
    if (fittedFor.current === null || userMoved.current || width === 0 || height === 0) return;
    void fitView(options);
  }, [width, height, options, fitView, userMoved]);

  useEffect(() => {
    if (fittedFor.current !== opened || !showingOpened || userMoved.current) return;
    if (fittedExtents.current.has(drawn)) return;
    fittedExtents.current.add(drawn);
    void fitView(options);
  }, [drawn, opened, showingOpened, options, fitView, userMoved]);

  return null;
}
