import type { NodeCounts } from '@sluice/shared';
import { compactCount } from '../../lib/format';

const BADGES = [
  { key: 'in', label: 'in', title: 'records that entered this node' },
  { key: 'out', label: 'ok', title: 'records this node passed on' },
  { key: 'error', label: 'failed', title: 'records that failed here' },
  { key: 'filtered', label: 'filtered', title: 'records filtered out here' },
] as const;

/** Per-node record counts of the shown run. */
export function NodeBadges({ counts }: { counts: NodeCounts }) {
  return (
    <div className="node-badges">
      {BADGES.map((b) => (
        <span
          key={b.key}
          className={`node-badge badge-${b.key}${counts[b.key] === 0 ? ' is-zero' : ''}`}
          title={`${counts[b.key]} ${b.title}`}
          data-count={b.key}
        >
          <span className="node-badge-label">{b.label}</span>
          <strong className="node-badge-value">{compactCount(counts[b.key])}</strong>
        </span>
      ))}
    </div>
  );
}
