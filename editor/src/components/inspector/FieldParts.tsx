import { createContext, type ReactNode, useContext } from 'react';
import type { FieldProblem, ParamPath } from '../../lib/inspector/schema';

/** What every field of one inspector needs to know. */
export interface InspectorContextValue {
  readOnly: boolean;
  /** The record expression previews evaluate against (the first of `sampleRecords`). */
  sample: Record<string, unknown> | undefined;
  /**
   * The records this node receives, as far as the editor knows them: the seam where a test run's or
   * pinned data plug in. Autocompletion offers their field paths; previews evaluate on the one chosen.
   */
  sampleRecords: readonly Record<string, unknown>[];
  nodeType: string;
}

export const InspectorContext = createContext<InspectorContextValue>({
  readOnly: false,
  sample: undefined,
  sampleRecords: [],
  nodeType: '',
});

export const useInspector = () => useContext(InspectorContext);

/** The test id of a param's input: `param-size`, `param-retry.maxAttempts`, `param-fields.0.expression`. */
export const paramTestId = (path: ParamPath) => `param-${path.join('.')}`;

/** A relative path for a message shown above where it points: "[0].name". */
function relativePath(path: ParamPath): string {
  return path.map((part, i) => (typeof part === 'number' ? `[${part}]` : i === 0 ? part : `.${part}`)).join('');
}

interface Message {
  severity: 'error' | 'warning';
  text: string;
}

/** Client checks first, then the document's problems, each once. */
export function collectMessages(client: readonly string[], problems: readonly FieldProblem[]): Message[] {
  const out: Message[] = [];
  const seen = new Set<string>();
  const add = (severity: Message['severity'], text: string) => {
    if (seen.has(text)) return;
    seen.add(text);
    out.push({ severity, text });
  };
  for (const text of client) add('error', text);
  for (const p of problems) {
    add(p.severity, p.path.length ? `${relativePath(p.path)}: ${p.message}` : p.message);
  }
  return out;
}

/** The messages under a field: errors in red, warnings in amber. */
export function FieldMessages({ messages, id }: { messages: readonly Message[]; id?: string }) {
  if (messages.length === 0) return null;
  return (
    <ul className="inspector-messages" id={id} data-testid="field-problems">
      {messages.map((m) => (
        <li key={m.text} className={`inspector-message is-${m.severity}`}>
          {m.text}
        </li>
      ))}
    </ul>
  );
}

/** Help text, with `code` in backticks shown as code. */
export function HelpText({
  text,
  id,
  className = 'inspector-help',
}: {
  text: string | undefined;
  id?: string;
  className?: string;
}) {
  if (!text) return null;
  const parts = text.split('`');
  return (
    <p className={className} id={id}>
      {parts.map((part, i) =>
        i % 2 === 1 ? (
          // biome-ignore lint/suspicious/noArrayIndexKey: the parts of a fixed text, never reordered
          <code key={i}>{part}</code>
        ) : (
          part
        ),
      )}
    </p>
  );
}

interface ShellProps {
  label: string;
  htmlFor: string;
  help?: string | undefined;
  required?: boolean;
  messages: readonly Message[];
  /** Shown on the label's line, right-aligned (a remove button, a default). */
  aside?: ReactNode;
  children: ReactNode;
  /** Below the input, above the help (an expression preview, a schedule's meaning). */
  below?: ReactNode;
}

/** One labelled field: label, input, what it shows below, help text, messages. */
export function FieldShell({ label, htmlFor, help, required, messages, aside, children, below }: ShellProps) {
  const invalid = messages.some((m) => m.severity === 'error');
  return (
    <div className={`inspector-field${invalid ? ' is-invalid' : ''}`}>
      <div className="inspector-label-row">
        <label className="inspector-label" htmlFor={htmlFor}>
          {label}
          {required && (
            <span className="inspector-required" title="required">
              {' '}
              *
            </span>
          )}
        </label>
        {aside}
      </div>
      {children}
      {below}
      <HelpText text={help} />
      <FieldMessages messages={messages} id={`${htmlFor}-messages`} />
    </div>
  );
}

interface GroupProps {
  label: string;
  help?: string | undefined;
  required?: boolean;
  messages: readonly Message[];
  testId?: string;
  aside?: ReactNode;
  children: ReactNode;
}

/** A group of fields (a nested object, a list) as a fieldset. */
export function FieldGroup({ label, help, required, messages, testId, aside, children }: GroupProps) {
  const invalid = messages.some((m) => m.severity === 'error');
  return (
    <fieldset className={`inspector-fieldset${invalid ? ' is-invalid' : ''}`} data-testid={testId}>
      <legend className="inspector-label">
        {label}
        {required && <span className="inspector-required"> *</span>}
      </legend>
      {aside}
      <HelpText text={help} />
      {children}
      <FieldMessages messages={messages} />
    </fieldset>
  );
}
