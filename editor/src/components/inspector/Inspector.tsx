import { type EstimatePart, type Flow, type FlowNode, nodeTypes, type Problem } from '@sluice/shared';
import { type ReactNode, useId, useMemo } from 'react';
import { describeSettings } from '../../lib/inspector/meaning';
import {
  isRecord,
  nodeProblems,
  paramSchema,
  placeUnknownKeys,
  problemsOwn,
  problemsUnder,
} from '../../lib/inspector/schema';
import {
  collectMessages,
  FieldMessages,
  FieldShell,
  HelpText,
  InspectorContext,
  type InspectorContextValue,
} from './FieldParts';
import { JsonField, PropertyFields } from './ParamField';
import { ScheduleFields } from './ScheduleFields';
import './inspector.css';

export interface InspectorPatch {
  name?: string;
  params?: Record<string, unknown>;
}

export interface InspectorProps {
  /** The node being edited. */
  node: FlowNode;
  /** The whole current document (to place problems and to work out what the numbers mean). */
  flow: Flow;
  /** Every problem of the document; the inspector picks the node's own. */
  problems: readonly Problem[];
  /** A change: the new display name, or the whole new params object (unknown keys kept). */
  onChange: (patch: InspectorPatch) => void;
  /** A record for expression previews. */
  sample?: Record<string, unknown>;
  /** What the node did in the last test, in words ("In the last test: 20 in, 20 out, 1 failed."). */
  tested?: string;
  readOnly?: boolean;
  /** What this node contributes to the run estimate (records, batches, waits), if anything. */
  estimate?: readonly EstimatePart[];
  /** A source's record count set for the estimate only (not saved), and how to change it. */
  expectedRecords?: number;
  onExpectedRecords?: (records: number | undefined) => void;
}

/** The settings of one node: its name and a form made from its type's parameter schema. */
export function Inspector({
  node,
  flow,
  problems,
  onChange,
  sample,
  tested,
  readOnly = false,
  estimate,
  expectedRecords,
  onExpectedRecords,
}: InspectorProps) {
  const nameId = useId();
  const def = nodeTypes.get(node.type);
  const schema = paramSchema(node.type);
  const params = isRecord(node.params) ? node.params : {};
  const index = flow.nodes.findIndex((n) => n.id === node.id);
  const found = useMemo(() => nodeProblems(problems, node.id, index), [problems, node.id, index]);
  // The document with this node as given, in case the two are a render apart.
  const meaning = useMemo(
    () => describeSettings({ ...flow, nodes: flow.nodes.map((n) => (n.id === node.id ? node : n)) }, node.id),
    [flow, node],
  );
  const context = useMemo<InspectorContextValue>(
    () => ({ readOnly, sample, nodeType: node.type }),
    [readOnly, sample, node.type],
  );
  const setParams = (next: Record<string, unknown>) => onChange({ params: next });

  const known = Object.keys(schema?.properties ?? {});
  const unknownKeys = schema ? Object.keys(params).filter((k) => !known.includes(k)) : [];
  const mine = { ...found, params: placeUnknownKeys(found.params, unknownKeys) };
  const nodeMessages = collectMessages([], mine.node);
  const paramMessages = collectMessages([], problemsOwn(mine.params, [...known, ...unknownKeys]));

  let form: ReactNode;
  if (!schema) {
    form = (
      <JsonField
        name="params"
        label="Parameters"
        path={['params']}
        schema={{ type: 'object', description: 'This type is not in the catalogue; its parameters are shown as JSON.' }}
        value={params}
        required
        problems={mine.params}
        onChange={(v) => setParams(isRecord(v) ? v : {})}
      />
    );
  } else if (node.type === 'schedule') {
    form = (
      <ScheduleFields
        params={params}
        schema={schema}
        problems={mine.params.filter((p) => known.includes(p.path[0] as string))}
        onChange={setParams}
      />
    );
  } else if (known.length === 0 && unknownKeys.length === 0) {
    form = <p className="inspector-empty">This node has no settings.</p>;
  } else {
    form = <PropertyFields schema={schema} value={params} path={[]} problems={mine.params} onChange={setParams} />;
  }

  return (
    <InspectorContext.Provider value={context}>
      <section className="inspector" data-testid="inspector" aria-label="Node settings">
        <header className="inspector-header">
          <div className="inspector-title">
            <span className="inspector-type">{def?.label ?? node.type}</span>
            <code className="inspector-id" title="Node id">
              {node.id}
            </code>
          </div>
          {def && <HelpText text={def.description} className="inspector-description" />}
        </header>
        <FieldMessages messages={nodeMessages} />

        <FieldShell label="Name" htmlFor={nameId} messages={collectMessages([], mine.name)}>
          <input
            id={nameId}
            type="text"
            className="inspector-input"
            data-testid="inspector-name"
            disabled={readOnly}
            autoComplete="off"
            maxLength={200}
            placeholder={def?.label ?? node.id}
            value={node.name ?? ''}
            onChange={(e) => onChange({ name: e.target.value })}
          />
        </FieldShell>

        {/* Keyed by node, so text being typed into one node's fields never shows in the next one's. */}
        <div className="inspector-form" key={node.id}>
          {form}
        </div>

        {unknownKeys.map((key) => (
          <JsonField
            key={`${node.id}\u0000${key}`}
            name={key}
            label={`${key} (not a setting of ${def?.label ?? node.type})`}
            path={[key]}
            schema={{}}
            value={params[key]}
            required={false}
            problems={problemsUnder(mine.params, key)}
            onChange={(v) => {
              const next = { ...params };
              if (v === undefined) delete next[key];
              else next[key] = v;
              setParams(next);
            }}
            aside={
              !readOnly && (
                <button
                  type="button"
                  className="link-button"
                  data-testid={`param-${key}-remove`}
                  onClick={() => {
                    const next = { ...params };
                    delete next[key];
                    setParams(next);
                  }}
                >
                  Remove
                </button>
              )
            }
          />
        ))}

        {schema && <FieldMessages messages={paramMessages} />}

        {meaning && (
          <p className="inspector-meaning" data-testid="inspector-meaning">
            {meaning}
          </p>
        )}

        {estimate && estimate.length > 0 && (
          <div className="inspector-estimate" data-testid="inspector-estimate">
            <span className="inspector-estimate-title">In the run estimate</span>
            {estimate.map((part) => (
              <p key={`${part.kind}:${part.text}`} className={part.known ? undefined : 'is-unknown'}>
                {part.text}
              </p>
            ))}
            {onExpectedRecords && estimate.some((p) => p.kind === 'records') && (
              <label className="inspector-estimate-count">
                Expected records (for the estimate only)
                <input
                  type="number"
                  min={0}
                  className="inspector-input"
                  data-testid="estimate-records"
                  value={expectedRecords ?? ''}
                  placeholder="as the source or the last run says"
                  onChange={(e) => {
                    const n = e.target.value === '' ? Number.NaN : Number(e.target.value);
                    onExpectedRecords(Number.isInteger(n) && n >= 0 ? n : undefined);
                  }}
                />
              </label>
            )}
          </div>
        )}
        {tested && (
          <p className="inspector-meaning" data-testid="inspector-tested">
            {tested}
          </p>
        )}
      </section>
    </InspectorContext.Provider>
  );
}
