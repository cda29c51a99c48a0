import { type FlowNote, NOTE_COLOURS } from '@sluice/shared';
import { type Node, type NodeProps, NodeResizer } from '@xyflow/react';
import { createContext, memo, useContext, useEffect, useRef, useState } from 'react';
import type { EditAction } from '../../lib/editing';
import { Markdown } from './Markdown';

export type NoteNode = Node<{ note: FlowNote }, 'note'>;

/** The id a note has on the canvas: its own id, kept apart from the nodes' ids. */
export const noteNodeId = (id: string) => `note:${id}`;
export const noteIdOf = (canvasId: string) => (canvasId.startsWith('note:') ? canvasId.slice(5) : null);

/** How notes send their edits to the document, and whether they may. */
export const NoteEditContext = createContext<{ dispatch: (a: EditAction) => void; readOnly: boolean }>({
  dispatch: () => {},
  readOnly: true,
});

/** A sticky note: markdown shown, double-click to edit, colours and resize handles when selected. */
export const NoteCard = memo(function NoteCard({ data, selected }: NodeProps<NoteNode>) {
  const { note } = data;
  const { dispatch, readOnly } = useContext(NoteEditContext);
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(note.text);
  const area = useRef<HTMLTextAreaElement>(null);
  const update = (patch: Partial<Omit<FlowNote, 'id'>>) => dispatch({ type: 'update-note', noteId: note.id, patch });

  useEffect(() => {
    if (editing) area.current?.focus();
  }, [editing]);
  useEffect(() => {
    if (!editing) setDraft(note.text);
  }, [note.text, editing]);

  const finish = () => {
    setEditing(false);
    if (draft !== note.text) update({ text: draft });
  };

  return (
    // biome-ignore lint/a11y/noStaticElementInteractions: double-click is the mouse's way in; the Edit button is the keyboard's
    <div
      className={`sticky-note note-${note.colour}${selected ? ' is-selected' : ''}`}
      data-testid={`note-${note.id}`}
      onDoubleClick={() => !readOnly && setEditing(true)}
    >
      {!readOnly && (
        <NodeResizer
          isVisible={selected}
          minWidth={80}
          minHeight={60}
          lineClassName="note-resize-line"
          handleClassName="note-resize-handle"
          onResizeEnd={(_e, r) => update({ width: r.width, height: r.height, position: { x: r.x, y: r.y } })}
        />
      )}
      {selected && !readOnly && (
        <fieldset className="note-colours nodrag" aria-label="Note colour">
          <button type="button" className="note-edit-button" data-testid="note-edit" onClick={() => setEditing(true)}>
            Edit
          </button>
          {NOTE_COLOURS.map((c) => (
            <button
              key={c}
              type="button"
              className={`note-swatch note-${c}${c === note.colour ? ' is-current' : ''}`}
              title={c}
              aria-label={`Colour ${c}`}
              aria-pressed={c === note.colour}
              data-testid={`note-colour-${c}`}
              onClick={() => update({ colour: c })}
            />
          ))}
        </fieldset>
      )}
      {editing ? (
        <textarea
          ref={area}
          className="note-editor nodrag nowheel"
          data-testid="note-editor"
          aria-label="Note text (markdown)"
          value={draft}
          onChange={(e) => setDraft(e.target.value)}
          onBlur={finish}
          onKeyDown={(e) => {
            e.stopPropagation();
            if (e.key === 'Escape' || (e.key === 'Enter' && (e.ctrlKey || e.metaKey))) finish();
          }}
        />
      ) : (
        <div className="note-body nowheel">
          {note.text.trim() ? (
            <Markdown source={note.text} />
          ) : (
            <p className="note-placeholder">{readOnly ? '' : 'Double-click to write (markdown)'}</p>
          )}
        </div>
      )}
    </div>
  );
});
