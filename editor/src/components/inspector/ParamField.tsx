import { type ReactNode, useEffect, useId, useState } from 'react';
import {
  checkValue,
  codeLanguage,
  discriminator,
  type FieldProblem,
  fieldKind,
  humanise,
  initialValue,
  isExpression,
  isRecord,
  isShown,
  type JsonSchema,
  type ParamPath,
  placeholderOf,
  problemsOwn,
  problemsUnder,
} from '../../lib/inspector/schema';
import { ConnectionField } from './ConnectionField';
import { ExpressionEditor } from './ExpressionEditor';
import { ExpressionPreview } from './ExpressionPreview';
import { collectMessages, FieldGroup, FieldShell, paramTestId, useInspector } from './FieldParts';

export interface ParamFieldProps {
  /** The property name (the label is made from it unless `label` is given). */
  name: string;
  label?: string;
  /** Where the value sits in the params: the test id is made from it. */
  path: ParamPath;
  schema: JsonSchema;
  value: unknown;
  required: boolean;
  /** The document's problems at and below this field, paths relative to it. */
  problems: readonly FieldProblem[];
  /** The new value; undefined takes the key out (so the default applies). */
  onChange: (value: unknown) => void;
  /** Shown on the label's line (e.g. a remove button). */
  aside?: ReactNode;
}

/** One parameter, with the input its JSON Schema asks for. */
export function ParamField(props: ParamFieldProps) {
  switch (fieldKind(props.schema)) {
    case 'object':
      return <ObjectField {...props} />;
    case 'union':
      return <UnionField {...props} />;
    case 'string-list':
      return <StringListField {...props} />;
    case 'object-list':
      return <ObjectListField {...props} />;
    case 'string-map':
      return <StringMapField {...props} />;
    case 'json':
      return <JsonField {...props} />;
    default:
      return <ScalarField {...props} />;
  }
}

/** Number, text, boolean and enum fields. */
function ScalarField({ name, label, path, schema, value, required, problems, onChange, aside }: ParamFieldProps) {
  const id = useId();
  const { readOnly, sampleRecords, nodeType } = useInspector();
  const [local, setLocal] = useState<string | null>(null);
  const kind = fieldKind(schema);
  const client = local ? [local] : checkValue(schema, value, required);
  const messages = collectMessages(client, problems);
  const invalid = messages.some((m) => m.severity === 'error');
  const common = {
    id,
    'data-testid': paramTestId(path),
    'aria-invalid': invalid || undefined,
    'aria-describedby': messages.length ? `${id}-messages` : undefined,
    disabled: readOnly,
  };
  let input: ReactNode;
  if (kind === 'number') {
    input = <NumberInput common={common} schema={schema} value={value} onChange={onChange} onBadInput={setLocal} />;
  } else if (kind === 'boolean') {
    const checked = typeof value === 'boolean' ? value : schema.default === true;
    input = (
      <input
        {...common}
        type="checkbox"
        className="inspector-checkbox"
        checked={checked}
        onChange={(e) => onChange(e.target.checked)}
      />
    );
  } else if (kind === 'enum') {
    input = <EnumSelect common={common} schema={schema} value={value} required={required} onChange={onChange} />;
  } else if (name === 'connection' && path.length === 1) {
    input = (
      <ConnectionField
        common={common}
        nodeType={nodeType}
        value={value}
        optional={!required}
        fallback={typeof schema.default === 'string' ? schema.default : undefined}
        onChange={onChange}
      />
    );
  } else if (codeLanguage(schema)) {
    input = (
      <ExpressionEditor
        id={id}
        testId={common['data-testid']}
        language={codeLanguage(schema)}
        value={typeof value === 'string' ? value : ''}
        sampleRecords={sampleRecords}
        readOnly={readOnly}
        invalid={invalid}
        describedBy={common['aria-describedby']}
        placeholder={placeholderOf(schema.default)}
        onChange={(text) => onChange(text === '' && !required ? undefined : text)}
      />
    );
  } else if (isExpression(schema)) {
    const keepEmpty = required && schema.default === undefined;
    input = (
      <ExpressionEditor
        id={id}
        testId={common['data-testid']}
        value={typeof value === 'string' ? value : value === undefined ? '' : String(value)}
        sampleRecords={sampleRecords}
        readOnly={readOnly}
        invalid={invalid}
        describedBy={common['aria-describedby']}
        placeholder={placeholderOf(schema.default)}
        onChange={(text) => onChange(text === '' && !keepEmpty ? undefined : text)}
      />
    );
  } else {
    const keepEmpty = required && schema.default === undefined;
    input = (
      <input
        {...common}
        type="text"
        className={`inspector-input${isExpression(schema) ? ' mono' : ''}`}
        value={typeof value === 'string' ? value : value === undefined ? '' : String(value)}
        placeholder={placeholderOf(schema.default)}
        spellCheck={isExpression(schema) ? false : undefined}
        autoComplete="off"
        onChange={(e) => onChange(e.target.value === '' && !keepEmpty ? undefined : e.target.value)}
      />
    );
  }
  const below =
    isExpression(schema) && typeof value === 'string' ? (
      <ExpressionPreview expression={value} records={sampleRecords} nodeType={nodeType} />
    ) : undefined;
  return (
    <FieldShell
      label={label ?? humanise(name)}
      htmlFor={id}
      help={schema.description}
      required={required && schema.default === undefined}
      messages={messages}
      aside={aside}
      below={below}
    >
      {input}
    </FieldShell>
  );
}

interface InputProps {
  common: {
    id: string;
    'data-testid': string;
    'aria-invalid': boolean | undefined;
    'aria-describedby': string | undefined;
    disabled: boolean;
  };
  schema: JsonSchema;
  value: unknown;
  onChange: (value: unknown) => void;
}

const numberText = (value: unknown) => (typeof value === 'number' ? String(value) : '');
const parseNumber = (text: string) => (text.trim() === '' ? undefined : Number(text));

/** A number input that keeps what is being typed ("1e", "-") and passes on numbers only. */
function NumberInput({
  common,
  schema,
  value,
  onChange,
  onBadInput,
}: InputProps & { onBadInput: (m: string | null) => void }) {
  const [text, setText] = useState(() => numberText(value));
  // Follow changes made elsewhere (undo, another client) without fighting what is being typed.
  useEffect(() => {
    setText((t) => (parseNumber(t) === value ? t : numberText(value)));
  }, [value]);
  return (
    <input
      {...common}
      type="number"
      className="inspector-input inspector-number"
      inputMode={schema.type === 'integer' ? 'numeric' : 'decimal'}
      min={schema.minimum}
      max={schema.maximum}
      step={schema.type === 'integer' ? 1 : 'any'}
      placeholder={placeholderOf(schema.default)}
      value={text}
      onChange={(e) => {
        const next = e.target.value;
        setText(next);
        if (e.target.validity.badInput) {
          onBadInput('must be a number');
          return;
        }
        onBadInput(null);
        const n = parseNumber(next);
        if (n === undefined || Number.isFinite(n)) onChange(n);
        else onBadInput('must be a number');
      }}
    />
  );
}

function EnumSelect({ common, schema, value, required, onChange }: InputProps & { required: boolean }) {
  const options = (schema.enum ?? []).map(String);
  const current = typeof value === 'string' ? value : '';
  const unknown = current !== '' && !options.includes(current);
  return (
    <select
      {...common}
      className="inspector-input inspector-select"
      value={current}
      onChange={(e) => onChange(e.target.value === '' ? undefined : e.target.value)}
    >
      {schema.default !== undefined ? (
        <option value="">default ({String(schema.default)})</option>
      ) : required ? (
        current === '' && (
          <option value="" disabled>
            Choose…
          </option>
        )
      ) : (
        <option value="">—</option>
      )}
      {unknown && <option value={current}>{current} (not allowed)</option>}
      {options.map((o) => (
        <option key={o} value={o}>
          {o}
        </option>
      ))}
    </select>
  );
}

/** The properties of an object schema, each as a field; keys the schema does not know are kept as they are. */
export function PropertyFields({
  schema,
  value,
  path,
  problems,
  onChange,
  skip = [],
}: {
  schema: JsonSchema;
  value: Record<string, unknown>;
  path: ParamPath;
  problems: readonly FieldProblem[];
  onChange: (value: Record<string, unknown>) => void;
  skip?: readonly string[];
}) {
  const set = (key: string, next: unknown) => {
    const out = { ...value };
    if (next === undefined) delete out[key];
    else out[key] = next;
    onChange(out);
  };
  return (
    <>
      {Object.entries(schema.properties ?? {})
        .filter(([key, prop]) => !skip.includes(key) && isShown(prop, schema, value))
        .map(([key, prop]) => (
          <ParamField
            key={key}
            name={key}
            {...(prop.title ? { label: prop.title } : {})}
            path={[...path, key]}
            schema={prop}
            value={value[key]}
            required={schema.required?.includes(key) ?? false}
            problems={problemsUnder(problems, key)}
            onChange={(next) => set(key, next)}
          />
        ))}
    </>
  );
}

function ObjectField({ name, label, path, schema, value, required, problems, onChange }: ParamFieldProps) {
  const id = useId();
  const { readOnly } = useInspector();
  const obj = isRecord(value) ? value : {};
  const shown = Object.keys(schema.properties ?? {});
  // An optional group (e.g. incremental sync) is off until the user turns it on: its fields, and what
  // they require, only count once it is in use.
  const optional = !required && schema.default === undefined;
  const inUse = !optional || value !== undefined;
  const messages = collectMessages(
    checkValue(schema, value, required),
    inUse ? problemsOwn(problems, shown) : problems.filter((p) => p.path.length === 0),
  );
  const groupLabel = label ?? humanise(name);
  return (
    <FieldGroup
      label={groupLabel}
      help={schema.description}
      required={required && schema.default === undefined}
      messages={messages}
      testId={paramTestId(path)}
    >
      {optional && (
        <label className="inspector-toggle" htmlFor={id}>
          <input
            id={id}
            type="checkbox"
            className="inspector-checkbox"
            data-testid={`${paramTestId(path)}-use`}
            disabled={readOnly}
            checked={inUse}
            onChange={(e) => onChange(e.target.checked ? initialValue({ ...schema, default: undefined }) : undefined)}
          />{' '}
          Use {groupLabel.toLowerCase()}
        </label>
      )}
      {inUse && (
        <PropertyFields
          schema={schema}
          value={obj}
          path={path}
          problems={problems}
          onChange={(next) => onChange(Object.keys(next).length === 0 && !required ? undefined : next)}
        />
      )}
    </FieldGroup>
  );
}

/** A choice among object shapes told apart by one property (e.g. pagination by `type`). */
function UnionField({ name, label, path, schema, value, required, problems, onChange }: ParamFieldProps) {
  const id = useId();
  const { readOnly } = useInspector();
  const key = discriminator(schema) as string;
  const variants = schema.oneOf ?? schema.anyOf ?? [];
  const obj = isRecord(value) ? value : isRecord(schema.default) ? schema.default : {};
  const tagOf = (v: JsonSchema) => String(v.properties?.[key]?.const);
  const variant = variants.find((v) => tagOf(v) === String(obj[key])) ?? variants[0];
  const shown = [key, ...Object.keys(variant?.properties ?? {})];
  const messages = collectMessages([], problemsOwn(problems, shown));
  const tagMessages = collectMessages([], problemsUnder(problems, key));
  return (
    <FieldGroup
      label={label ?? humanise(name)}
      help={schema.description}
      required={required && schema.default === undefined}
      messages={messages}
      testId={paramTestId(path)}
    >
      <FieldShell label={humanise(key)} htmlFor={id} messages={tagMessages}>
        <select
          id={id}
          className="inspector-input inspector-select"
          data-testid={paramTestId([...path, key])}
          disabled={readOnly}
          value={variant ? tagOf(variant) : ''}
          onChange={(e) => {
            const next = variants.find((v) => tagOf(v) === e.target.value);
            onChange(next ? (initialValue({ ...next, default: undefined }) as Record<string, unknown>) : undefined);
          }}
        >
          {variants.map((v) => (
            <option key={tagOf(v)} value={tagOf(v)}>
              {tagOf(v)}
            </option>
          ))}
        </select>
      </FieldShell>
      {variant && (
        <PropertyFields
          schema={variant}
          value={{ ...obj, [key]: tagOf(variant) }}
          path={path}
          problems={problems}
          onChange={onChange}
          skip={[key]}
        />
      )}
    </FieldGroup>
  );
}

function ListButtons({
  index,
  length,
  path,
  onMove,
  onRemove,
}: {
  index: number;
  length: number;
  path: ParamPath;
  onMove?: (from: number, to: number) => void;
  onRemove: (index: number) => void;
}) {
  const { readOnly } = useInspector();
  if (readOnly) return null;
  return (
    <span className="inspector-list-buttons">
      {onMove && (
        <>
          <button
            type="button"
            className="inspector-icon-button"
            title="Move up"
            aria-label="Move up"
            disabled={index === 0}
            onClick={() => onMove(index, index - 1)}
          >
            ↑
          </button>
          <button
            type="button"
            className="inspector-icon-button"
            title="Move down"
            aria-label="Move down"
            disabled={index === length - 1}
            onClick={() => onMove(index, index + 1)}
          >
            ↓
          </button>
        </>
      )}
      <button
        type="button"
        className="inspector-icon-button is-danger"
        title="Remove"
        aria-label="Remove"
        data-testid={`${paramTestId([...path, index])}-remove`}
        onClick={() => onRemove(index)}
      >
        ×
      </button>
    </span>
  );
}

function AddButton({ path, label, onAdd }: { path: ParamPath; label: string; onAdd: () => void }) {
  const { readOnly } = useInspector();
  if (readOnly) return null;
  return (
    <button
      type="button"
      className="button button-small inspector-add"
      data-testid={`${paramTestId(path)}-add`}
      onClick={onAdd}
    >
      + {label}
    </button>
  );
}

const listOf = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

function listEdits(list: unknown[], onChange: (value: unknown) => void) {
  return {
    set: (i: number, item: unknown) => onChange(list.map((x, j) => (j === i ? item : x))),
    remove: (i: number) => onChange(list.filter((_, j) => j !== i)),
    add: (item: unknown) => onChange([...list, item]),
    move: (from: number, to: number) => {
      const next = [...list];
      const [item] = next.splice(from, 1);
      next.splice(to, 0, item);
      onChange(next);
    },
  };
}

/** A list of strings (e.g. map's `remove`). */
function StringListField({ name, label, path, schema, value, required, problems, onChange }: ParamFieldProps) {
  const { readOnly } = useInspector();
  const list = listOf(value);
  const edit = listEdits(list, onChange);
  const items = schema.items ?? {};
  const messages = collectMessages(
    checkValue(schema, value, required),
    problemsOwn(
      problems,
      list.map((_, i) => i),
    ),
  );
  return (
    <FieldGroup
      label={label ?? humanise(name)}
      help={schema.description}
      required={required && schema.default === undefined}
      messages={messages}
      testId={paramTestId(path)}
    >
      {list.length === 0 && <p className="inspector-empty">None.</p>}
      <ol className="inspector-list">
        {list.map((item, i) => {
          const itemMessages = collectMessages(checkValue(items, item, true), problemsUnder(problems, i));
          return (
            // biome-ignore lint/suspicious/noArrayIndexKey: the items are plain strings without identity; inputs are controlled
            <li key={i} className="inspector-list-row">
              <div className="inspector-list-line">
                <input
                  type="text"
                  className="inspector-input"
                  aria-label={`${label ?? humanise(name)} ${i + 1}`}
                  aria-invalid={itemMessages.length > 0 || undefined}
                  data-testid={paramTestId([...path, i])}
                  disabled={readOnly}
                  value={typeof item === 'string' ? item : JSON.stringify(item)}
                  onChange={(e) => edit.set(i, e.target.value)}
                />
                <ListButtons index={i} length={list.length} path={path} onRemove={edit.remove} />
              </div>
              <FieldMessagesInline messages={itemMessages} />
            </li>
          );
        })}
      </ol>
      <AddButton path={path} label="Add" onAdd={() => edit.add('')} />
    </FieldGroup>
  );
}

function FieldMessagesInline({ messages }: { messages: ReturnType<typeof collectMessages> }) {
  if (messages.length === 0) return null;
  return (
    <ul className="inspector-messages" data-testid="field-problems">
      {messages.map((m) => (
        <li key={m.text} className={`inspector-message is-${m.severity}`}>
          {m.text}
        </li>
      ))}
    </ul>
  );
}

/** A list of small objects (e.g. map's `fields: [{ name, expression }]`), in order. */
function ObjectListField({ name, label, path, schema, value, required, problems, onChange }: ParamFieldProps) {
  const list = listOf(value);
  const edit = listEdits(list, onChange);
  const items = schema.items ?? {};
  const messages = collectMessages(
    checkValue(schema, value, required),
    problemsOwn(
      problems,
      list.map((_, i) => i),
    ),
  );
  const singular = humanise(name).replace(/s$/, '').toLowerCase();
  return (
    <FieldGroup
      label={label ?? humanise(name)}
      help={schema.description}
      required={required && schema.default === undefined}
      messages={messages}
      testId={paramTestId(path)}
    >
      {list.length === 0 && <p className="inspector-empty">None yet.</p>}
      <ol className="inspector-list">
        {list.map((item, i) => {
          const itemProblems = problemsUnder(problems, i);
          const obj = isRecord(item) ? item : {};
          const itemMessages = collectMessages(
            isRecord(item) ? [] : ['must be an object'],
            problemsOwn(itemProblems, Object.keys(items.properties ?? {})),
          );
          return (
            // biome-ignore lint/suspicious/noArrayIndexKey: items have no id; every input is controlled by its value
            <li key={i} className="inspector-list-item" data-testid={`${paramTestId([...path, i])}`}>
              <div className="inspector-list-head">
                <span className="inspector-list-index">{i + 1}</span>
                <ListButtons index={i} length={list.length} path={path} onMove={edit.move} onRemove={edit.remove} />
              </div>
              <PropertyFields
                schema={items}
                value={obj}
                path={[...path, i]}
                problems={itemProblems}
                onChange={(next) => edit.set(i, next)}
              />
              <FieldMessagesInline messages={itemMessages} />
            </li>
          );
        })}
      </ol>
      <AddButton path={path} label={`Add ${singular}`} onAdd={() => edit.add(initialValue(items))} />
    </FieldGroup>
  );
}

type Row = { key: string; value: string };

const rowsOf = (value: unknown): Row[] =>
  isRecord(value)
    ? Object.entries(value).map(([key, v]) => ({ key, value: typeof v === 'string' ? v : String(v) }))
    : [];

const objectOf = (rows: readonly Row[]) =>
  Object.fromEntries(rows.filter((r) => r.key !== '').map((r) => [r.key, r.value]));

/** Names and text values (e.g. an HTTP source's query parameters). */
function StringMapField({ name, label, path, schema, value, required, problems, onChange }: ParamFieldProps) {
  const { readOnly } = useInspector();
  const [rows, setRows] = useState<Row[]>(() => rowsOf(value));
  // Take changes made elsewhere; keep rows being typed (an empty name) while they mean the same object.
  useEffect(() => {
    setRows((current) => (JSON.stringify(objectOf(current)) === JSON.stringify(value ?? {}) ? current : rowsOf(value)));
  }, [value]);
  const update = (next: Row[]) => {
    setRows(next);
    const obj = objectOf(next);
    onChange(Object.keys(obj).length === 0 && !required ? undefined : obj);
  };
  const keys = rows.map((r) => r.key);
  const duplicates = keys.filter((k, i) => k !== '' && keys.indexOf(k) !== i);
  const messages = collectMessages(
    duplicates.length ? [`"${duplicates[0]}" is given twice; the last one counts`] : [],
    problems,
  );
  return (
    <FieldGroup
      label={label ?? humanise(name)}
      help={schema.description}
      required={required && schema.default === undefined}
      messages={messages}
      testId={paramTestId(path)}
    >
      {rows.length === 0 && <p className="inspector-empty">None.</p>}
      <ol className="inspector-list">
        {rows.map((row, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: rows are edited in place; a name can change while typed
          <li key={i} className="inspector-list-row">
            <div className="inspector-list-line">
              <input
                type="text"
                className="inspector-input mono"
                placeholder="name"
                aria-label={`Name ${i + 1}`}
                data-testid={`${paramTestId([...path, i])}.key`}
                disabled={readOnly}
                value={row.key}
                onChange={(e) => update(rows.map((r, j) => (j === i ? { ...r, key: e.target.value } : r)))}
              />
              <input
                type="text"
                className="inspector-input"
                placeholder="value"
                aria-label={`Value ${i + 1}`}
                data-testid={`${paramTestId([...path, i])}.value`}
                disabled={readOnly}
                value={row.value}
                onChange={(e) => update(rows.map((r, j) => (j === i ? { ...r, value: e.target.value } : r)))}
              />
              <ListButtons
                index={i}
                length={rows.length}
                path={path}
                onRemove={(j) => update(rows.filter((_, k) => k !== j))}
              />
            </div>
          </li>
        ))}
      </ol>
      <AddButton path={path} label="Add" onAdd={() => setRows([...rows, { key: '', value: '' }])} />
    </FieldGroup>
  );
}

const jsonText = (value: unknown) => (value === undefined ? '' : JSON.stringify(value, null, 2));

/** Anything else, as JSON: checked when the field is left, passed on only when it reads. */
export function JsonField({ name, label, path, schema, value, required, problems, onChange, aside }: ParamFieldProps) {
  const id = useId();
  const { readOnly } = useInspector();
  const [text, setText] = useState(() => jsonText(value));
  const [focused, setFocused] = useState(false);
  const [parseError, setParseError] = useState<string | null>(null);
  useEffect(() => {
    if (!focused) setText(jsonText(value));
  }, [value, focused]);
  const client = parseError ? [parseError] : checkValue(schema, value, required);
  const messages = collectMessages(client, problems);
  const commit = () => {
    setFocused(false);
    if (text.trim() === '') {
      setParseError(null);
      onChange(undefined);
      return;
    }
    try {
      const parsed: unknown = JSON.parse(text);
      setParseError(null);
      if (JSON.stringify(parsed) !== JSON.stringify(value)) onChange(parsed);
      setText(jsonText(parsed));
    } catch (error) {
      setParseError(`not valid JSON: ${(error as Error).message}`);
    }
  };
  return (
    <FieldShell
      label={label ?? humanise(name)}
      htmlFor={id}
      help={schema.description}
      required={required && schema.default === undefined}
      messages={messages}
      aside={aside}
    >
      <textarea
        id={id}
        className="inspector-input inspector-json mono"
        data-testid={paramTestId(path)}
        aria-invalid={messages.some((m) => m.severity === 'error') || undefined}
        aria-describedby={messages.length ? `${id}-messages` : undefined}
        disabled={readOnly}
        spellCheck={false}
        rows={Math.min(12, Math.max(3, text.split('\n').length))}
        placeholder={placeholderOf(schema.default)}
        value={text}
        onFocus={() => setFocused(true)}
        onChange={(e) => setText(e.target.value)}
        onBlur={commit}
      />
    </FieldShell>
  );
}
