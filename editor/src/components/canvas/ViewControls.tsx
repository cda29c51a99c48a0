import { ControlButton, Controls, type FitViewOptions, MiniMap, Panel } from '@xyflow/react';
import type { CanvasNode } from '../../lib/graph';
import { kindColour } from '../nodes/kinds';

const minimapColour = (node: CanvasNode) => kindColour(node.type);

export interface ViewTools {
  controls: boolean;
  minimap: boolean;
}

interface Props {
  tools: ViewTools;
  onChange: (tools: ViewTools) => void;
  fitOptions: FitViewOptions;
  /** The fit button was pressed: the view follows the canvas's size again. */
  onFit: () => void;
  /** A zoom button was pressed: the user chose this view. */
  onZoom: () => void;
  /** Adds a sticky note (absent when the flow is read-only). */
  onAddNote?: () => void;
}

/**
 * Zoom buttons (bottom left) and the minimap (bottom right), each folded away on request; the fit
 * keeps a strip free along the bottom for them, so they never sit over a node of a fitted flow.
 */
export function ViewControls({ tools, onChange, fitOptions, onFit, onZoom, onAddNote }: Props) {
  return (
    <>
      {tools.controls ? (
        <Controls
          orientation="horizontal"
          showInteractive={false}
          fitViewOptions={fitOptions}
          onFitView={onFit}
          onZoomIn={onZoom}
          onZoomOut={onZoom}
          aria-label="Zoom"
        >
          {onAddNote && (
            <ControlButton
              onClick={onAddNote}
              title="Add a sticky note"
              aria-label="Add a sticky note"
              data-testid="add-note"
            >
              <span className="control-glyph" aria-hidden="true">
                ✎
              </span>
            </ControlButton>
          )}
          <ControlButton
            onClick={() => onChange({ ...tools, minimap: !tools.minimap })}
            title={tools.minimap ? 'Hide the minimap' : 'Show the minimap'}
            aria-label={tools.minimap ? 'Hide the minimap' : 'Show the minimap'}
            aria-pressed={tools.minimap}
            data-testid="toggle-minimap"
          >
            <span className="control-glyph" aria-hidden="true">
              ▦
            </span>
          </ControlButton>
          <ControlButton
            onClick={() => onChange({ ...tools, controls: false })}
            title="Fold the view controls away"
            aria-label="Fold the view controls away"
            data-testid="fold-controls"
          >
            <span className="control-glyph" aria-hidden="true">
              ‹
            </span>
          </ControlButton>
        </Controls>
      ) : (
        <Panel position="bottom-left">
          <button
            type="button"
            className="canvas-unfold"
            onClick={() => onChange({ ...tools, controls: true })}
            title="Show the zoom controls"
            data-testid="unfold-controls"
          >
            Zoom ›
          </button>
        </Panel>
      )}
      {tools.minimap && (
        <MiniMap<CanvasNode>
          pannable
          zoomable
          nodeColor={minimapColour}
          nodeStrokeWidth={2}
          style={{ width: 150, height: 90 }}
        />
      )}
    </>
  );
}

const KEY = 'sluice.canvas.tools';

/** The view tools as the user last left them. */
export function loadViewTools(): ViewTools {
  try {
    const saved = JSON.parse(localStorage.getItem(KEY) ?? 'null') as Partial<ViewTools> | null;
    return { controls: saved?.controls ?? true, minimap: saved?.minimap ?? true };
  } catch {
    return { controls: true, minimap: true };
  }
}

export function saveViewTools(tools: ViewTools): void {
  try {
    localStorage.setItem(KEY, JSON.stringify(tools));
  } catch {
    // storage may be off (private windows): the choice then lasts for this page only
  }
}
