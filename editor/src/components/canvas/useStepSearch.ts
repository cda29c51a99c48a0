import type { Flow } from '@sluice/shared';
import { useReactFlow } from '@xyflow/react';
import { type RefObject, useCallback, useEffect, useRef, useState } from 'react';
import { createNode, type EditAction, mainOutput } from '../../lib/editing';
import type { CanvasNode } from '../../lib/graph';
import { isTyping } from '../../lib/keys';

export interface StepSearch {
  /** Where the list opens on screen, where the node goes on the canvas, and what it follows. */
  at: { x: number; y: number };
  place: { x: number; y: number };
  after: string | null;
  where: string;
}

const NODE_W = 190;
const STEP_X = 250;
const STEP_Y = 140;

/** A spot right of `node` that no other node covers: same row if free, else the next free row below. */
export function spotAfter(doc: Flow, node: { x: number; y: number }): { x: number; y: number } {
  const x = node.x + STEP_X;
  let y = node.y;
  const taken = (yy: number) =>
    doc.nodes.some((n) => n.position && Math.abs(n.position.x - x) < NODE_W && Math.abs(n.position.y - yy) < 110);
  for (let i = 0; i < 50 && taken(y); i++) y += STEP_Y;
  return { x, y };
}

interface Options {
  doc: Flow;
  nodes: CanvasNode[];
  readOnly: boolean;
  wrapper: RefObject<HTMLDivElement | null>;
  dispatch: (action: EditAction) => void;
  /** The node just added, to select once drawn. */
  onInserted: (nodeId: string) => void;
}

/**
 * Tab or "/" on the canvas opens a search of step types; the step chosen goes after the selected
 * node (connected to it) or, with none selected, where the pointer is.
 */
export function useStepSearch({ doc, nodes, readOnly, wrapper, dispatch, onInserted }: Options) {
  const { screenToFlowPosition } = useReactFlow();
  const pointer = useRef<{ x: number; y: number } | null>(null);
  const [search, setSearch] = useState<StepSearch | null>(null);

  const open = useCallback(() => {
    const box = wrapper.current?.getBoundingClientRect();
    if (!box) return;
    const selected = nodes.filter((n) => n.selected);
    const only = selected.length === 1 ? selected[0] : undefined;
    const el = only ? wrapper.current?.querySelector(`.react-flow__node[data-id="${CSS.escape(only.id)}"]`) : null;
    if (only && el) {
      const r = el.getBoundingClientRect();
      setSearch({
        at: { x: r.right + 16, y: r.top },
        place: spotAfter(doc, only.position),
        after: only.id,
        where: mainOutput(doc, only.id) ? `after ${only.data.label}` : `beside ${only.data.label} (it has no output)`,
      });
      return;
    }
    const p = pointer.current ?? { x: box.left + box.width / 2, y: box.top + box.height / 2 };
    const at = screenToFlowPosition(p);
    setSearch({
      at: p,
      place: { x: at.x - NODE_W / 2, y: at.y - 40 },
      after: null,
      where: pointer.current ? 'at the pointer' : 'in the middle of the view',
    });
  }, [doc, nodes, wrapper, screenToFlowPosition]);

  useEffect(() => {
    if (readOnly) return;
    const onKey = (e: KeyboardEvent) => {
      if ((e.key !== 'Tab' && e.key !== '/') || e.shiftKey || e.ctrlKey || e.metaKey || e.altKey) return;
      if (isTyping(e.target) || document.querySelector('[role="dialog"]')) return;
      // Tab keeps moving the focus through the page unless the canvas (or nothing) has it
      const focus = document.activeElement;
      if (focus && focus !== document.body && !wrapper.current?.contains(focus)) return;
      e.preventDefault();
      open();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [open, readOnly, wrapper]);

  const pick = useCallback(
    (type: string) => {
      if (!search) return;
      const node = createNode(doc, type, search.place);
      dispatch({ type: 'insert', node, ...(search.after ? { after: search.after } : {}) });
      setSearch(null);
      onInserted(node.id);
    },
    [doc, dispatch, onInserted, search],
  );

  const onPointerMove = useCallback((e: { clientX: number; clientY: number }) => {
    pointer.current = { x: e.clientX, y: e.clientY };
  }, []);
  const onPointerLeave = useCallback(() => {
    pointer.current = null;
  }, []);

  return { search, pick, close: () => setSearch(null), onPointerMove, onPointerLeave };
}
