import { useStore } from '@xyflow/react';
import { type RefObject, useLayoutEffect } from 'react';

/** Below this zoom the counts on nodes switch from the grid with words to the one-line summary. */
export const COMPACT_BELOW = 0.8;

/**
 * Puts the canvas's zoom on its element (`--zoom`, `data-counts`), so node text that must stay
 * readable scales against it in CSS without redrawing any node.
 */
export function ZoomScale({ target }: { target: RefObject<HTMLElement | null> }) {
  // in steps of 1/64: a wheel zoom restyles the canvas when the step changes, not on every event
  const zoom = useStore((s) => Math.round(s.transform[2] * 64) / 64);
  useLayoutEffect(() => {
    const el = target.current;
    if (!el) return;
    el.style.setProperty('--zoom', zoom.toFixed(3));
    el.dataset.counts = zoom < COMPACT_BELOW ? 'compact' : 'full';
  }, [zoom, target]);
  return null;
}
