import { BaseEdge, EdgeLabelRenderer, type EdgeProps, getBezierPath } from '@xyflow/react';
import { memo } from 'react';

/**
 * An edge with its port's name ("error", "true", "false") in an HTML label at its middle. React Flow's
 * own SVG labels measure themselves with getBBox, which forces a layout of the whole page per label
 * while a big flow opens; an HTML label needs no measuring.
 */
export const LabelledEdge = memo(function LabelledEdge(props: EdgeProps) {
  const [path, labelX, labelY] = getBezierPath(props);
  return (
    <>
      <BaseEdge
        id={props.id}
        path={path}
        {...(props.markerEnd ? { markerEnd: props.markerEnd } : {})}
        {...(props.style ? { style: props.style } : {})}
        {...(props.interactionWidth !== undefined ? { interactionWidth: props.interactionWidth } : {})}
      />
      {props.label && (
        <EdgeLabelRenderer>
          <div
            className={`edge-label edge-label-${String(props.label)}`}
            style={{ transform: `translate(-50%, -50%) translate(${labelX}px, ${labelY}px)` }}
          >
            {props.label}
          </div>
        </EdgeLabelRenderer>
      )}
    </>
  );
});

export const edgeTypes = { labelled: LabelledEdge };
