import { useEffect, useState } from 'react';
import { limitWaitLine } from '../../lib/waiting';
import type { CanvasOverlay } from './overlay';

/** Seconds left until `until`, redrawn ten times a second while it counts down. */
function useCountdown(until: string | null): number | null {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!until) return;
    const timer = setInterval(() => setNow(Date.now()), 100);
    return () => clearInterval(timer);
  }, [until]);
  if (!until) return null;
  return Math.max(0, (Date.parse(until) - now) / 1000);
}

interface Props {
  nodeId: string;
  type: string;
  overlay: CanvasOverlay;
}

/** What a node is doing in the run shown: batch k of n, a delay counting down, an open breaker, a connection's limit. */
export function LiveState({ nodeId, type, overlay }: Props) {
  const waiting = overlay.waiting?.nodeId === nodeId ? overlay.waiting : null;
  const left = useCountdown(waiting?.until ?? null);
  if (waiting?.kind === 'breaker') {
    return (
      <div className="node-live is-breaker" data-testid={`live-${nodeId}`}>
        Breaker open{waiting.connection ? ` on ${waiting.connection}` : ''}: retrying in {left?.toFixed(1)} s
      </div>
    );
  }
  if (waiting?.kind === 'limit') {
    // a paced permit has a time to count down to; a wait for a free place has none
    return (
      <div className="node-live is-waiting" data-testid={`live-${nodeId}`} title={limitWaitLine(waiting)}>
        {limitWaitLine(waiting)}
        {left ? `: next in ${left.toFixed(1)} s` : ''}
      </div>
    );
  }
  if (waiting && (waiting.kind === 'delay' || waiting.kind === 'rate' || waiting.kind === 'retry')) {
    const what = waiting.kind === 'retry' ? 'Retrying' : waiting.kind === 'rate' ? 'Rate limit' : 'Next batch';
    return (
      <div className="node-live is-waiting" data-testid={`live-${nodeId}`}>
        {what} in {left?.toFixed(1)} s
      </div>
    );
  }
  if (type === 'batch' && overlay.batchProgress && overlay.batchProgress.current > 0) {
    const { current, total } = overlay.batchProgress;
    return (
      <div className="node-live" data-testid={`live-${nodeId}`}>
        Batch {current.toLocaleString('en-US')}
        {total ? ` of ${total.toLocaleString('en-US')}` : ''}
      </div>
    );
  }
  return null;
}
