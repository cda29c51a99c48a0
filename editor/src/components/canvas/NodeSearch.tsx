import { nodeTypes } from '@sluice/shared';
import { type KeyboardEvent, useEffect, useMemo, useRef, useState } from 'react';
import { kindOf } from '../../lib/graph';
import { KINDS } from '../nodes/kinds';

interface Props {
  /** Where to open, in window pixels (kept inside the window). */
  at: { x: number; y: number };
  /** Says where the step will go, e.g. "after Create in ERP". */
  where: string;
  onPick: (type: string) => void;
  onClose: () => void;
}

const WIDTH = 320;
const HEIGHT = 360;

/** Finds a step type by typing: ↑/↓ to choose, Enter to add it, Esc to close. */
export function NodeSearch({ at, where, onPick, onClose }: Props) {
  const [query, setQuery] = useState('');
  const [active, setActive] = useState(0);
  const input = useRef<HTMLInputElement>(null);
  const matches = useMemo(() => {
    const q = query.trim().toLowerCase();
    const all = [...nodeTypes.values()];
    if (!q) return all;
    // names that start with the query first, then names that hold it, then descriptions
    const score = (d: (typeof all)[number]) => {
      const label = d.label.toLowerCase();
      if (label.startsWith(q)) return 0;
      if (label.includes(q) || d.type.includes(q)) return 1;
      return d.description.toLowerCase().includes(q) ? 2 : 3;
    };
    return all
      .map((d) => ({ d, s: score(d) }))
      .filter((x) => x.s < 3)
      .sort((a, b) => a.s - b.s)
      .map((x) => x.d);
  }, [query]);

  useEffect(() => input.current?.focus(), []);

  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === 'ArrowDown') setActive((i) => Math.min(i + 1, matches.length - 1));
    else if (e.key === 'ArrowUp') setActive((i) => Math.max(i - 1, 0));
    else if (e.key === 'Enter' && matches[active]) onPick(matches[active].type);
    else if (e.key === 'Escape' || e.key === 'Tab') onClose();
    else return;
    e.preventDefault();
    e.stopPropagation();
  };

  const left = Math.max(8, Math.min(at.x, window.innerWidth - WIDTH - 8));
  const top = Math.max(8, Math.min(at.y, window.innerHeight - HEIGHT - 8));
  return (
    <div
      className="node-search"
      style={{ left, top, width: WIDTH, maxHeight: HEIGHT }}
      role="dialog"
      aria-label="Add a step"
      data-testid="node-search"
    >
      <input
        ref={input}
        className="node-search-input"
        data-testid="node-search-input"
        placeholder={`Add a step ${where}…`}
        value={query}
        role="combobox"
        aria-expanded="true"
        aria-controls="node-search-list"
        aria-activedescendant={matches[active] ? `node-search-${matches[active].type}` : undefined}
        onChange={(e) => {
          setQuery(e.target.value);
          setActive(0);
        }}
        onKeyDown={onKeyDown}
        onBlur={onClose}
      />
      <div className="node-search-where muted">Adds {where}</div>
      <div className="node-search-list" id="node-search-list" role="listbox">
        {matches.length === 0 && <div className="muted node-search-empty">No step matches “{query}”.</div>}
        {matches.map((d, i) => (
          <div
            key={d.type}
            id={`node-search-${d.type}`}
            role="option"
            tabIndex={-1}
            aria-selected={i === active}
            className={`node-search-item${i === active ? ' is-active' : ''}`}
            data-testid={`node-search-item-${d.type}`}
            style={{ borderLeftColor: KINDS[kindOf(d)].colour }}
            // mousedown, not click: the input's blur would close the list first
            onMouseDown={(e) => {
              e.preventDefault();
              onPick(d.type);
            }}
            onMouseEnter={() => setActive(i)}
          >
            <span className="node-search-label">{d.label}</span>
            <span className="node-search-desc">{d.description}</span>
          </div>
        ))}
      </div>
    </div>
  );
}
