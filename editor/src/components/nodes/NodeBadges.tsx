import type { NodeCounts } from '@sluice/shared';
import { compactCount } from '../../lib/format';

const COUNTS = [
  { key: 'in', label: 'in', title: 'records that entered this node' },
  { key: 'out', label: 'ok', title: 'records this node passed on' },
  { key: 'error', label: 'failed', title: 'records that failed here' },
  { key: 'filtered', label: 'filtered', title: 'records filtered out here' },
] as const;

const describe = (counts: NodeCounts) =>
  [
    ...COUNTS.map((c) => `${(counts[c.key] ?? 0).toLocaleString('en-US')} ${c.title}`),
    ...(counts.cacheHits ? [`${counts.cacheHits.toLocaleString('en-US')} lookups answered from the cache`] : []),
  ].join('\n');

/**
 * Per-node record counts of the shown run (and, for a lookup, the answers its cache gave), drawn twice: a grid with words for when the canvas is
 * zoomed in, and a one-line summary ("1k ✓ 86 ✗") for when it is zoomed out. The canvas says which
 * one shows (`data-counts` on `.canvas`) and scales both so no count is under 11 px on screen.
 */
export function NodeBadges({ counts }: { counts: NodeCounts }) {
  const value = (key: (typeof COUNTS)[number]['key']) => counts[key] ?? 0;
  const state = (key: (typeof COUNTS)[number]['key']) => (value(key) === 0 ? ' is-zero' : '');
  return (
    <div className="node-counts" title={describe(counts)}>
      <div className="node-badges">
        {COUNTS.map((c) => (
          <span key={c.key} className={`node-badge count-${c.key}${state(c.key)}`} data-count={c.key}>
            <span className="node-badge-label">{c.label}</span>
            <strong className="node-badge-value">{compactCount(value(c.key))}</strong>
          </span>
        ))}
        {(counts.cacheHits ?? 0) > 0 && (
          <span className="node-badge count-cache" data-count="cacheHits" title="lookups answered from the cache">
            <span className="node-badge-label">cached</span>
            <strong className="node-badge-value">{compactCount(counts.cacheHits ?? 0)}</strong>
          </span>
        )}
      </div>
      <div className="node-summary" data-testid="node-summary">
        <span className={`node-summary-part count-out${state('out')}`} data-summary="out">
          {compactCount(value('out'))} ✓
        </span>
        <span className={`node-summary-part count-error${state('error')}`} data-summary="error">
          {compactCount(value('error'))} ✗
        </span>
        {value('filtered') > 0 && (
          <span className="node-summary-part count-filtered" data-summary="filtered">
            {compactCount(value('filtered'))} filtered
          </span>
        )}
        {(counts.cacheHits ?? 0) > 0 && (
          <span className="node-summary-part count-cache" data-summary="cacheHits">
            {compactCount(counts.cacheHits ?? 0)} cached
          </span>
        )}
      </div>
    </div>
  );
}
