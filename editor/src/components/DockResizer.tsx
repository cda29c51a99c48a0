import { type KeyboardEvent, type PointerEvent, useCallback, useEffect, useRef, useState } from 'react';

const KEY = 'sluice.dock.height';
const MIN = 120;
/** Room kept above the dock: the header, the toolbar and some canvas. */
const KEEP_ABOVE = 260;

const clamp = (h: number) => Math.round(Math.max(MIN, Math.min(h, window.innerHeight - KEEP_ABOVE)));
const fallback = () => Math.min(300, Math.round(window.innerHeight * 0.4));

function saved(): number | null {
  try {
    const v = Number(localStorage.getItem(KEY));
    return Number.isFinite(v) && v > 0 ? v : null;
  } catch {
    return null;
  }
}

/** The dock's height: as the user last dragged it, else 40% of the window up to 300 px. */
export function useDockHeight(): { height: number; setHeight: (h: number, keep?: boolean) => void } {
  const [height, set] = useState(() => clamp(saved() ?? fallback()));
  const setHeight = useCallback((h: number, keep = false) => {
    const next = clamp(h);
    set(next);
    if (keep) {
      try {
        localStorage.setItem(KEY, String(next));
      } catch {
        // storage may be off: the height holds for this page only
      }
    }
  }, []);
  // a smaller window takes room from the dock before the canvas
  const [, redraw] = useState(0);
  useEffect(() => {
    const onResize = () => redraw((n) => n + 1);
    window.addEventListener('resize', onResize);
    return () => window.removeEventListener('resize', onResize);
  }, []);
  return { height: clamp(height), setHeight };
}

interface Props {
  height: number;
  onResize: (height: number, keep?: boolean) => void;
}

/** The dock's top edge: drag it (or focus it and press ↑/↓) to give the dock or the canvas more room. */
export function DockResizer({ height, onResize }: Props) {
  const start = useRef<{ y: number; height: number } | null>(null);
  const onPointerDown = (e: PointerEvent<HTMLDivElement>) => {
    e.currentTarget.setPointerCapture(e.pointerId);
    start.current = { y: e.clientY, height };
  };
  const onPointerMove = (e: PointerEvent<HTMLDivElement>) => {
    if (start.current) onResize(start.current.height - (e.clientY - start.current.y));
  };
  const onPointerUp = (e: PointerEvent<HTMLDivElement>) => {
    if (!start.current) return;
    onResize(start.current.height - (e.clientY - start.current.y), true);
    start.current = null;
  };
  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    const step = e.shiftKey ? 80 : 20;
    if (e.key === 'ArrowUp') onResize(height + step, true);
    else if (e.key === 'ArrowDown') onResize(height - step, true);
    else return;
    e.preventDefault();
  };
  return (
    // biome-ignore lint/a11y/useSemanticElements: a focusable separator is the ARIA pattern for a splitter; <hr> cannot take focus
    <div
      className="dock-resizer"
      role="separator"
      aria-orientation="horizontal"
      aria-label="Resize the panel below the canvas"
      aria-valuenow={height}
      aria-valuemin={MIN}
      tabIndex={0}
      data-testid="dock-resizer"
      onPointerDown={onPointerDown}
      onPointerMove={onPointerMove}
      onPointerUp={onPointerUp}
      onKeyDown={onKeyDown}
    />
  );
}
