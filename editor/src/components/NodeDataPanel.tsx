import type { Flow } from '@sluice/shared';
import { useMemo, useState } from 'react';
import { fieldPaths, type NodeTestData, type TestDataState } from '../lib/test-data';
import './node-data.css';

interface Props {
  doc: Flow;
  data: TestDataState;
  /** The node whose data is shown. */
  nodeId: string | null;
  onPickNode: (nodeId: string) => void;
  nodeLabel: (nodeId: string) => string;
  onTestTo: (nodeId: string) => void;
  onPin: (nodeId: string, records: Record<string, unknown>[]) => void;
  onUnpin: (nodeId: string) => void;
  readOnly: boolean;
  testing: boolean;
}

type Side = 'input' | 'output' | 'failed';

const MAX_ROWS = 200;
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** What a node received, emitted and failed in the last test, as a table or JSON; pin its output. */
export function NodeDataPanel({
  doc,
  data,
  nodeId,
  onPickNode,
  nodeLabel,
  onTestTo,
  onPin,
  onUnpin,
  readOnly,
  testing,
}: Props) {
  const [side, setSide] = useState<Side>('output');
  const [json, setJson] = useState(false);
  const node = nodeId ? doc.nodes.find((n) => n.id === nodeId) : undefined;
  const pinned = nodeId ? doc.pinned?.[nodeId] : undefined;
  const own: NodeTestData | undefined = nodeId ? data.nodes[nodeId] : undefined;
  const shown: NodeTestData = own ?? { input: [], output: pinned ?? [], failed: [] };

  if (data.status === 'idle' && !pinned) {
    return (
      <div className="dock-hint muted" data-testid="node-data-panel" data-state="idle">
        Press Test to run the flow as it is now on the first records of its sources, without sending writes: what each
        node receives and produces shows here.
      </div>
    );
  }
  const counts = { input: shown.input.length, output: shown.output.length, failed: shown.failed.length };
  const records: unknown[] =
    side === 'failed'
      ? shown.failed.map((f) => ({ reason: f.error, ...(isRecord(f.data) ? f.data : { record: f.data }) }))
      : shown[side];
  const canPin = !readOnly && own !== undefined && !own.dryRun && own.output.some(isRecord);

  return (
    <div className="node-data" data-testid="node-data-panel" data-state={data.status} data-run={data.runId ?? ''}>
      <div className="node-data-bar">
        <select
          className="node-data-node"
          data-testid="node-data-node"
          value={nodeId ?? ''}
          onChange={(e) => onPickNode(e.target.value)}
          aria-label="Node"
        >
          {!node && <option value="">Pick a node</option>}
          {doc.nodes.map((n) => (
            <option key={n.id} value={n.id}>
              {nodeLabel(n.id)}
              {data.nodes[n.id] ? '' : ' (no data)'}
            </option>
          ))}
        </select>
        <div className="node-data-sides" role="tablist">
          {(['input', 'output', 'failed'] as Side[]).map((s) => (
            <button
              key={s}
              type="button"
              role="tab"
              aria-selected={side === s}
              className={`dock-tab${side === s ? ' is-active' : ''}${s === 'failed' && counts.failed ? ' is-failed' : ''}`}
              data-testid={`node-data-${s}`}
              onClick={() => setSide(s)}
            >
              {s === 'input' ? 'Input' : s === 'output' ? (own?.dryRun ? 'Would send' : 'Output') : 'Failed'}{' '}
              <span className="node-data-count" data-testid={`node-data-count-${s}`}>
                {counts[s]}
              </span>
            </button>
          ))}
        </div>
        <label className="toolbar-toggle">
          <input
            type="checkbox"
            data-testid="node-data-json"
            checked={json}
            onChange={(e) => setJson(e.target.checked)}
          />
          JSON
        </label>
        <span className="toolbar-gap" />
        {data.status === 'running' && <span className="muted">Testing…</span>}
        {data.status === 'failed' && data.error && (
          <span className="node-data-error" role="alert" title={data.error}>
            {data.error}
          </span>
        )}
        {node && (
          <button
            type="button"
            className="button button-small"
            data-testid="test-to-here"
            disabled={readOnly || testing}
            onClick={() => onTestTo(node.id)}
            title="Test only this node and the nodes that feed it"
          >
            Test to here
          </button>
        )}
        {node && pinned && (
          <button
            type="button"
            className="button button-small"
            data-testid="unpin-button"
            disabled={readOnly}
            onClick={() => onUnpin(node.id)}
          >
            Unpin {pinned.length}
          </button>
        )}
        {node && !pinned && canPin && (
          <button
            type="button"
            className="button button-small"
            data-testid="pin-button"
            onClick={() => onPin(node.id, (own?.output ?? []).filter(isRecord))}
            title="Keep this output with the flow as sample data: tests start from it instead of calling the source; real runs never use it"
          >
            Pin output
          </button>
        )}
      </div>
      {own?.dryRun && side === 'output' && (
        <p className="node-data-note" data-testid="node-data-dry">
          Not sent: each row is the request this write would have made (secrets masked). Tick “send writes” to send
          them.
        </p>
      )}
      {(own?.pinned || (!own && pinned)) && (
        <p className="node-data-note" data-testid="node-data-pinned">
          Pinned data: tests start from these {pinned?.length ?? 0} records instead of calling the source.
        </p>
      )}
      {own?.truncated && <p className="node-data-note">Only the first records are kept.</p>}
      {!node ? (
        <p className="dock-hint muted">Select a node on the canvas to see its data.</p>
      ) : records.length === 0 ? (
        <p className="dock-hint muted" data-testid="node-data-empty">
          {own || pinned
            ? `No ${side === 'failed' ? 'failed records' : `${side} records`}.`
            : 'This node got no records in the last test.'}
        </p>
      ) : json ? (
        <pre className="node-data-json" data-testid="node-data-json-view">
          {JSON.stringify(records.slice(0, MAX_ROWS), null, 2)}
        </pre>
      ) : (
        <RecordTable records={records} failed={side === 'failed'} />
      )}
    </div>
  );
}

/** Records as a table: a column per top-level field, nested values folded (open them to read). */
function RecordTable({ records, failed }: { records: unknown[]; failed: boolean }) {
  const columns = useMemo(() => fieldPaths(records, false), [records]);
  const rows = records.slice(0, MAX_ROWS);
  return (
    <div className="node-data-table-wrap">
      <table className={`node-data-table${failed ? ' is-failed' : ''}`} data-testid="node-data-table">
        <thead>
          <tr>
            <th className="node-data-index">#</th>
            {columns.map((c) => (
              <th key={c}>{c}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) => (
            // records have no id of their own here: their position is their identity in this list
            // biome-ignore lint/suspicious/noArrayIndexKey: see above
            <tr key={i} data-testid="node-data-row">
              <td className="node-data-index">{i + 1}</td>
              {columns.map((c) => (
                <td key={c}>
                  <Cell value={isRecord(r) ? r[c] : undefined} />
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      {records.length > rows.length && <p className="muted">and {records.length - rows.length} more (see JSON)</p>}
    </div>
  );
}

function Cell({ value }: { value: unknown }) {
  if (value === undefined) return <span className="muted">—</span>;
  if (value === null) return <span className="muted">null</span>;
  if (typeof value !== 'object') return <span className={`cell-${typeof value}`}>{String(value)}</span>;
  const size = Array.isArray(value) ? `[${value.length}]` : `{${Object.keys(value).length}}`;
  return (
    <details className="node-data-nested">
      <summary>{size}</summary>
      <pre>{JSON.stringify(value, null, 2)}</pre>
    </details>
  );
}
