import {
  autocompletion,
  type Completion,
  type CompletionContext,
  closeBrackets,
  completionKeymap,
  pickedCompletion,
} from '@codemirror/autocomplete';
import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands';
import { javascript } from '@codemirror/lang-javascript';
import { sql } from '@codemirror/lang-sql';
import { HighlightStyle, StreamLanguage, syntaxHighlighting } from '@codemirror/language';
import { type Diagnostic, linter } from '@codemirror/lint';
import { Compartment, EditorState, type Extension } from '@codemirror/state';
import { EditorView, keymap, lineNumbers, placeholder as placeholderText } from '@codemirror/view';
import { tags } from '@lezer/highlight';
import { startTransition, useEffect, useMemo, useRef } from 'react';
import { completionsFor, type FieldPath, fieldPaths, wordBefore } from '../../lib/expressions/completions';
import { expressionDiagnostics } from '../../lib/expressions/diagnostics';
import type { CodeLanguage } from '../../lib/inspector/schema';

export interface ExpressionEditorProps {
  id: string;
  value: string;
  onChange: (value: string) => void;
  /** The records whose field paths are offered (the node's input: last test, pinned data or a sample). */
  sampleRecords: readonly unknown[];
  testId: string;
  readOnly?: boolean;
  invalid?: boolean;
  describedBy?: string | undefined;
  placeholder?: string | undefined;
  /** Milliseconds after the last change before the syntax is checked and underlined. */
  lintDelayMs?: number;
  /** Milliseconds of quiet typing after which the text is sent on to the flow (and so to the problems). */
  changeDelayMs?: number;
  /**
   * A field of code rather than an expression: coloured as JavaScript or SQL, with line numbers, Tab
   * indenting, and the language's own completions (SQL keywords, JavaScript's words) in place of
   * JSONata's field paths and checks.
   */
  language?: CodeLanguage;
}

/** JSONata's tokens, enough to colour strings, numbers, functions and operators. */
const jsonata = StreamLanguage.define<{ inComment: boolean }>({
  startState: () => ({ inComment: false }),
  token(stream, state) {
    if (state.inComment) {
      if (stream.skipTo('*/')) {
        stream.match('*/');
        state.inComment = false;
      } else stream.skipToEnd();
      return 'comment';
    }
    if (stream.match('/*')) {
      state.inComment = true;
      return 'comment';
    }
    if (stream.match(/^"(?:[^"\\]|\\.)*"?/) || stream.match(/^'(?:[^'\\]|\\.)*'?/)) return 'string';
    if (stream.match(/^`[^`]*`?/)) return 'propertyName';
    if (stream.match(/^-?\d+(\.\d+)?([eE][+-]?\d+)?/)) return 'number';
    if (stream.match(/^\$[A-Za-z0-9_]*/)) return 'variableName';
    if (stream.match(/^(and|or|in|true|false|null|function)\b/)) return 'keyword';
    if (stream.match(/^[A-Za-z_][A-Za-z0-9_]*/)) return 'propertyName';
    if (stream.match(/^(:=|!=|<=|>=|~>|\.\.|[-+*/%&=<>?:!^|])/)) return 'operator';
    stream.next();
    return null;
  },
});

const highlight = HighlightStyle.define([
  { tag: tags.string, color: '#0f766e' },
  { tag: tags.number, color: '#b45309' },
  { tag: tags.variableName, color: '#7c3aed' },
  { tag: tags.keyword, color: '#be185d' },
  { tag: tags.propertyName, color: '#1d4ed8' },
  { tag: tags.operator, color: '#475569' },
  { tag: tags.comment, color: '#94a3b8', fontStyle: 'italic' },
  { tag: [tags.bool, tags.null, tags.atom], color: '#b45309' },
  { tag: [tags.typeName, tags.standard(tags.name)], color: '#0e7490' },
  { tag: tags.function(tags.variableName), color: '#7c3aed' },
]);

/** A code field's language, its own completions included. */
const LANGUAGES: Record<CodeLanguage, () => Extension> = {
  javascript: () => javascript(),
  sql: () => sql({ upperCaseKeywords: true }),
};

const theme = EditorView.theme({
  '&': { fontSize: '13px', border: '1px solid var(--border, #cbd5e1)', borderRadius: '6px', background: '#fff' },
  '&.cm-focused': { outline: '2px solid #93c5fd', outlineOffset: '0' },
  '.cm-content': {
    fontFamily: 'ui-monospace, SFMono-Regular, Menlo, monospace',
    padding: '6px 2px',
    minHeight: '20px',
  },
  '.cm-line': { padding: '0 6px' },
  '.cm-gutters': { background: 'transparent', border: 'none', color: '#94a3b8' },
  '.cm-tooltip-autocomplete ul li': { fontFamily: 'ui-monospace, SFMono-Regular, Menlo, monospace' },
  '.cm-completionDetail': { color: '#64748b', fontStyle: 'normal', marginLeft: '1em' },
  '.cm-tooltip-autocomplete ul li[aria-selected] .cm-completionDetail': { color: '#e2e8f0' },
});

/** What may change while the editor lives: its attributes and whether it can be edited. */
function settings(p: {
  id: string;
  testId: string;
  readOnly: boolean;
  invalid: boolean;
  describedBy: string | undefined;
}): Extension {
  return [
    EditorState.readOnly.of(p.readOnly),
    EditorView.editable.of(!p.readOnly),
    EditorView.contentAttributes.of({
      id: p.id,
      'data-testid': p.testId,
      'aria-multiline': 'true',
      spellcheck: 'false',
      ...(p.describedBy ? { 'aria-describedby': p.describedBy } : {}),
      ...(p.invalid ? { 'aria-invalid': 'true' } : {}),
    }),
  ];
}

/**
 * An expression field as a code editor (CodeMirror 6): JSONata colours, autocompletion of the sample
 * records' field paths and of JSONata's functions with their signatures, and syntax errors underlined
 * while typing, found by the engine's own compiler.
 */
export function ExpressionEditor({
  id,
  value,
  onChange,
  sampleRecords,
  testId,
  readOnly = false,
  invalid = false,
  describedBy,
  placeholder,
  lintDelayMs = 150,
  changeDelayMs = 200,
  language,
}: ExpressionEditorProps) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const live = useRef(new Compartment());
  /** The texts sent with onChange that the `value` prop has not come back with yet, oldest first. */
  const pending = useRef<string[]>([]);
  const flush = useRef<ReturnType<typeof setTimeout> | null>(null);
  /** Sends the editor's text on, unless it is what was sent last. */
  const send = () => {
    flush.current = null;
    const v = view.current;
    if (!v) return;
    const text = v.state.doc.toString();
    if (pending.current.at(-1) === text) return;
    pending.current.push(text);
    startTransition(() => onChangeRef.current(text));
  };
  const sendRef = useRef(send);
  sendRef.current = send;
  const onChangeRef = useRef(onChange);
  onChangeRef.current = onChange;
  const paths = useMemo(() => fieldPaths(sampleRecords), [sampleRecords]);
  const pathsRef = useRef<readonly FieldPath[]>(paths);
  pathsRef.current = paths;

  // the editor is made once per field; what changes later reaches it through refs and transactions
  // biome-ignore lint/correctness/useExhaustiveDependencies: made once; value and props are synced below
  useEffect(() => {
    if (!host.current) return;
    const complete = (context: CompletionContext) => {
      // the word before the cursor is all completion needs: read the end of the line, not the whole text
      const start = Math.max(0, context.pos - 200);
      const found = wordBefore(context.state.sliceDoc(start, context.pos), context.pos - start);
      const from = found.from + start;
      const word = found.word;
      const options = completionsFor(word, pathsRef.current, context.explicit);
      if (options.length === 0) return null;
      return {
        from,
        options: options.map((o) => ({
          label: o.label,
          // a function comes with its parentheses, the cursor between them
          apply:
            o.kind === 'function'
              ? (v: EditorView, completion: Completion, from: number, to: number) =>
                  v.dispatch({
                    changes: { from, to, insert: `${o.label}()` },
                    selection: { anchor: from + o.label.length + 1 },
                    annotations: pickedCompletion.of(completion),
                    userEvent: 'input.complete',
                  })
              : o.apply,
          type: o.kind === 'function' ? 'function' : 'property',
          detail: o.detail,
          ...(o.info ? { info: o.info } : {}),
          boost: o.kind === 'field' ? 1 : 0,
        })),
        validFor: /^[$A-Za-z0-9_.`]*$/,
      };
    };
    const lint = linter(
      (v): Diagnostic[] =>
        expressionDiagnostics(v.state.doc.toString()).map((d) => ({ ...d, severity: 'error', source: 'JSONata' })),
      { delay: lintDelayMs },
    );
    view.current = new EditorView({
      parent: host.current,
      state: EditorState.create({
        doc: value,
        extensions: [
          history(),
          closeBrackets(),
          syntaxHighlighting(highlight),
          ...(language
            ? [
                LANGUAGES[language](),
                lineNumbers(),
                autocompletion({ icons: false }),
                keymap.of([...completionKeymap, indentWithTab, ...defaultKeymap, ...historyKeymap]),
              ]
            : [
                jsonata,
                autocompletion({ override: [complete], activateOnTyping: true, icons: false }),
                lint,
                keymap.of([...completionKeymap, ...defaultKeymap, ...historyKeymap]),
              ]),
          EditorView.lineWrapping,
          live.current.of(settings({ id, testId, readOnly, invalid, describedBy })),
          theme,
          ...(placeholder ? [placeholderText(placeholder)] : []),
          EditorView.domEventHandlers({
            blur: () => {
              if (flush.current) {
                clearTimeout(flush.current);
                sendRef.current();
              }
            },
          }),
          EditorView.updateListener.of((update) => {
            if (!update.docChanged) return;
            // The flow document (problems, canvas, preview) follows once typing pauses, as a transition:
            // re-checking and redrawing the flow on every key would hold up the keys that follow.
            if (flush.current) clearTimeout(flush.current);
            flush.current = setTimeout(() => sendRef.current(), changeDelayMs);
          }),
        ],
      }),
    });
    return () => {
      if (flush.current) {
        clearTimeout(flush.current);
        sendRef.current();
      }
      view.current?.destroy();
      view.current = null;
    };
  }, []);

  useEffect(() => {
    view.current?.dispatch({
      effects: live.current.reconfigure(settings({ id, testId, readOnly, invalid, describedBy })),
    });
  }, [id, testId, readOnly, invalid, describedBy]);

  // A change from outside (undo, a value set elsewhere): replace the text, keeping the cursor where it
  // can be. A value this editor sent itself comes back a render or more later, while typing went on: it
  // is not a change from outside, and putting it back would drop what was typed since.
  useEffect(() => {
    const v = view.current;
    if (!v) return;
    const mine = pending.current.indexOf(value);
    if (mine >= 0) {
      pending.current.splice(0, mine + 1);
      return;
    }
    pending.current = [];
    const current = v.state.doc.toString();
    if (current === value) return;
    const head = Math.min(v.state.selection.main.head, value.length);
    v.dispatch({ changes: { from: 0, to: current.length, insert: value }, selection: { anchor: head } });
  }, [value]);

  return (
    <div
      ref={host}
      className={`expression-editor nokey${language ? ` code-editor code-${language}` : ''}${invalid ? ' is-invalid' : ''}`}
    />
  );
}
