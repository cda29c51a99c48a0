import { ERROR_PORT } from '@sluice/shared';
import { Handle, type NodeProps, Position } from '@xyflow/react';
import type { CanvasNode, NodeKind } from '../../lib/graph';
import { KINDS } from './kinds';
import { LiveState } from './LiveState';
import { NodeBadges } from './NodeBadges';
import { useCanvasOverlay } from './overlay';

/** The body every node kind shares: label, type, parameter summary, ports, problems and run counts. */
export function NodeCard({ id, data, selected, kind }: NodeProps<CanvasNode> & { kind: NodeKind }) {
  const overlay = useCanvasOverlay();
  const { nodeCounts, highlightNodeId, highlightPath } = overlay;
  const counts = nodeCounts?.[id];
  const errors = data.problems.filter((p) => p.severity === 'error');
  const problemText = data.problems.map((p) => p.message).join('\n');
  const classes = ['flow-node', `kind-${kind}`];
  if (data.problems.length > 0) classes.push(errors.length > 0 ? 'has-errors' : 'has-warnings');
  if (highlightNodeId === id) classes.push('is-highlighted');
  if (selected) classes.push('is-selected');
  if (highlightPath?.includes(id) && highlightNodeId !== id) classes.push('on-path');
  if (overlay.waiting?.nodeId === id && overlay.waiting.kind === 'breaker') classes.push('has-open-breaker');

  return (
    <div
      className={classes.join(' ')}
      data-testid={`node-${id}`}
      data-highlighted={highlightNodeId === id ? 'true' : undefined}
      title={problemText || data.description || undefined}
    >
      {highlightNodeId === id && <span className="flow-node-flag">failed here</span>}
      {data.hasInput && <Handle type="target" position={Position.Left} className="handle-in" />}
      <div className="flow-node-head">
        <span className="flow-node-kind">{KINDS[kind].label}</span>
        {data.problems.length > 0 && (
          <span className="flow-node-alert" role="img" aria-label={`${data.problems.length} problem(s)`}>
            !
          </span>
        )}
      </div>
      <div className="flow-node-label">{data.label}</div>
      <div className="flow-node-type">
        {data.typeLabel}
        <span className="flow-node-id"> · {id}</span>
      </div>
      {data.summary && (
        <div className="flow-node-summary" title={data.summary}>
          {data.summary}
        </div>
      )}
      {data.problems[0] && <div className="flow-node-problem">{data.problems[0].message}</div>}
      {counts && <NodeBadges counts={counts} />}
      <LiveState nodeId={id} type={data.type} overlay={overlay} />
      {data.outputs.length > 0 && (
        <div className="flow-node-ports">
          {data.outputs.map((port) => (
            <div key={port} className={`flow-node-port port-${port === ERROR_PORT ? 'error' : port}`}>
              <span className="port-label">{port}</span>
              <Handle
                type="source"
                position={Position.Right}
                id={port}
                className={port === ERROR_PORT ? 'handle-error' : `handle-${port}`}
              />
            </div>
          ))}
        </div>
      )}
    </div>
  );
}
