import { NODE_GROUPS, nodeTypes } from '@sluice/shared';
import { type DragEvent, useMemo, useState } from 'react';
import { kindOf } from '../lib/graph';
import { KINDS } from './nodes/kinds';
import { Section } from './Section';

export const DRAG_TYPE = 'application/x-sluice-node-type';

interface Props {
  /** Adds a node of the type where there is room (for a click instead of a drag). */
  onAdd: (type: string) => void;
  disabled?: boolean;
}

const GROUP_TITLES: Record<string, string> = {
  triggers: 'Triggers',
  sources: 'Sources',
  'flow control': 'Flow control',
  transform: 'Transform',
  shaping: 'Shaping',
  sinks: 'Sinks',
  errors: 'Errors',
};

/** Every node type, grouped and searchable; drag one onto the canvas (or click it) to add it. */
export function Palette({ onAdd, disabled = false }: Props) {
  const [query, setQuery] = useState('');
  const groups = useMemo(() => {
    const q = query.trim().toLowerCase();
    const all = [...nodeTypes.values()].filter(
      (d) => !q || `${d.label} ${d.type} ${d.description}`.toLowerCase().includes(q),
    );
    return NODE_GROUPS.map((g) => ({ group: g, types: all.filter((d) => d.group === g) })).filter(
      (g) => g.types.length,
    );
  }, [query]);

  const onDragStart = (event: DragEvent, type: string) => {
    event.dataTransfer.setData(DRAG_TYPE, type);
    event.dataTransfer.setData('text/plain', type);
    event.dataTransfer.effectAllowed = 'copy';
  };

  return (
    <Section id="palette" title="Add a step" className="palette">
      <input
        className="palette-search"
        data-testid="palette-search"
        type="search"
        placeholder="Search steps…"
        value={query}
        onChange={(e) => setQuery(e.target.value)}
      />
      {groups.length === 0 && <p className="muted palette-empty">No step matches “{query}”.</p>}
      {groups.map(({ group, types }) => (
        <div key={group} className="palette-group">
          <h3>{GROUP_TITLES[group] ?? group}</h3>
          {types.map((def) => (
            <button
              type="button"
              key={def.type}
              className="palette-item"
              data-testid={`palette-item-${def.type}`}
              draggable={!disabled}
              disabled={disabled}
              onDragStart={(e) => onDragStart(e, def.type)}
              onClick={() => onAdd(def.type)}
              title={`${def.description}\nDrag onto the canvas, or click to add.`}
              style={{ borderLeftColor: KINDS[kindOf(def)].colour }}
            >
              <span className="palette-item-label">{def.label}</span>
              <span className="palette-item-desc">{def.description}</span>
            </button>
          ))}
        </div>
      ))}
    </Section>
  );
}
