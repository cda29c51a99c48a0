import type { ConnectionView } from '@sluice/shared';
import { useState } from 'react';
import { useApi } from '../../api';
import { useAsync } from '../../hooks/useAsync';
import { connectionsFor } from '../../lib/connections/fit';
import { ConnectionForm } from '../connections/ConnectionForm';
import '../connections/connections.css';

const NEW = '\u0000new';

interface Props {
  common: { id: string; 'data-testid': string; disabled: boolean; 'aria-invalid'?: boolean | undefined };
  nodeType: string;
  value: unknown;
  /** Whether the node can do without a connection (an HTTP node given an absolute URL). */
  optional: boolean;
  /** The name the node falls back to when none is set (entity nodes: their sandbox). */
  fallback: string | undefined;
  onChange: (value: unknown) => void;
}

/**
 * The connection of a node: a choice of the built-in and stored connections that fit it, and "New
 * connection…", which opens the connection form here and selects what it saved.
 */
export function ConnectionField({ common, nodeType, value, optional, fallback, onChange }: Props) {
  const api = useApi();
  const [creating, setCreating] = useState(false);
  const list = useAsync('connections', (signal) => api.call('listConnections', { signal }), true);
  // one just created is offered at once, before the list is read again
  const [created, setCreated] = useState<ConnectionView[]>([]);
  const loaded = list.data?.items ?? [];
  const all = [...loaded, ...created.filter((c) => !loaded.some((l) => l.name === c.name))];
  const { builtIn, stored } = connectionsFor(nodeType, all);
  const current = typeof value === 'string' ? value : '';
  const known = [...builtIn, ...stored].some((c) => c.name === current);
  return (
    <>
      <select
        {...common}
        className="inspector-input"
        value={creating ? NEW : current}
        onChange={(e) => {
          if (e.target.value === NEW) return setCreating(true);
          setCreating(false);
          onChange(e.target.value === '' ? undefined : e.target.value);
        }}
      >
        {(optional || current === '') && (
          <option value="">
            {optional ? 'None: the URL is absolute' : fallback ? `Default (${fallback})` : 'Choose a connection'}
          </option>
        )}
        {current !== '' && !known && <option value={current}>{list.data ? `${current} (not found)` : current}</option>}
        {builtIn.length > 0 && (
          <optgroup label="Built in">
            {builtIn.map((c) => (
              <option key={c.name} value={c.name}>
                {c.name}
              </option>
            ))}
          </optgroup>
        )}
        {stored.length > 0 && (
          <optgroup label="Stored">
            {stored.map((c) => (
              <option key={c.name} value={c.name}>
                {c.name}
              </option>
            ))}
          </optgroup>
        )}
        <option value={NEW}>New connection…</option>
      </select>
      {list.error && <p className="error-text">Could not load the connections: {list.error}</p>}
      {current !== '' && list.data && !known && (
        <p className="error-text" data-testid="connection-missing">
          No connection named “{current}”: choose one, or create it.
        </p>
      )}
      {creating && (
        <div className="inspector-connection-form">
          <ConnectionForm
            onCancel={() => setCreating(false)}
            onSaved={(saved) => {
              setCreating(false);
              setCreated((c) => [...c, saved]);
              list.reload();
              onChange(saved.name);
            }}
          />
        </div>
      )}
    </>
  );
}
