import { useApi } from '../api';
import { useAsync } from '../hooks/useAsync';
import { formatTimestamp } from '../lib/format';
import { useCan } from '../session';
import { ErrorMessage } from './ErrorMessage';

interface Props {
  flowId: string;
  refreshKey: string;
  viewing: number | null;
  onView: (version: number | null) => void;
  onRestore: (version: number) => void;
}

/** The flow's saved versions: which is published, which have problems; open one, or restore it. */
export function VersionsPanel({ flowId, refreshKey, viewing, onView, onRestore }: Props) {
  const can = useCan();
  const api = useApi();
  const versions = useAsync(`${flowId}:${refreshKey}`, (signal) =>
    api.call('listVersions', { params: { id: flowId }, signal }),
  );
  return (
    <section className="versions-panel" data-testid="versions-panel">
      <div className="side-head">
        <h2>Versions</h2>
      </div>
      {versions.error && (
        <ErrorMessage title="Could not load the versions." message={versions.error} onRetry={versions.reload} />
      )}
      {versions.loading && !versions.data && <p className="muted">Loading…</p>}
      <ul className="plain-list">
        {versions.data?.items.map((v, i) => (
          <li key={v.version} data-testid="version-item">
            <strong>v{v.version}</strong>
            <span className="muted">{formatTimestamp(v.createdAt)}</span>
            {v.published && <span className="badge badge-published">published</span>}
            {v.errors > 0 && <span className="badge badge-error">{v.errors} problem(s)</span>}
            <span className="toolbar-gap" />
            {i > 0 && (
              <>
                <button
                  type="button"
                  className="button button-small"
                  onClick={() => onView(viewing === v.version ? null : v.version)}
                >
                  {viewing === v.version ? 'Close' : 'Open'}
                </button>
                {can('flows.write') && (
                  <button
                    type="button"
                    className="button button-small"
                    data-testid={`restore-${v.version}`}
                    onClick={() => onRestore(v.version)}
                  >
                    Restore
                  </button>
                )}
              </>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
