import { HTTP_STATUS } from '@sluice/shared';
import { useEffect, useId, useState } from 'react';
import { ApiClientError, describeError, useApi } from '../../api';
import {
  CATCH_UP_EXPLANATIONS,
  CATCH_UP_POLICIES,
  type CatchUpPolicy,
  formatFireTime,
  INVALID_SCHEDULE,
  isTimeZone,
  OVERLAP_EXPLANATIONS,
  OVERLAP_POLICIES,
  type OverlapPolicy,
  previewQuery,
  type SchedulePreview,
  timeUntil,
  timeZones,
} from '../../lib/inspector/schedule';
import {
  checkValue,
  type FieldProblem,
  humanise,
  type JsonSchema,
  placeholderOf,
  problemsOwn,
  problemsUnder,
} from '../../lib/inspector/schema';
import { cronProblem, timeZoneProblem } from '../../lib/problems/schedule-check';
import { collectMessages, FieldMessages, FieldShell, paramTestId, useInspector } from './FieldParts';
import { ParamField } from './ParamField';
import './inspector.css';

export interface ScheduleFieldsProps {
  /** The schedule node's params as they are (unknown keys are kept). */
  params: Record<string, unknown>;
  /** The JSON Schema of the schedule type's params (for defaults, help texts and bounds). */
  schema: JsonSchema;
  /** Problems of the params, paths relative to the params. */
  problems: readonly FieldProblem[];
  onChange: (params: Record<string, unknown>) => void;
  /** Milliseconds to wait after the last change of cron or time zone before asking the server. */
  debounceMs?: number;
}

const SHOWN = ['cron', 'timezone', 'overlap', 'catchUp', 'catchUpLimit'];

type PreviewState =
  | { status: 'idle' }
  | { status: 'loading'; last?: SchedulePreview }
  | { status: 'ok'; data: SchedulePreview }
  | { status: 'invalid'; message: string }
  | { status: 'error'; message: string };

/** Asks the server what a cron means in a zone and when it fires next; debounced, cancelled when outdated. */
function useSchedulePreview(cron: string, timezone: string, debounceMs: number) {
  const api = useApi();
  const [state, setState] = useState<PreviewState>({ status: 'idle' });
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    if (cron.trim() === '') {
      setState({ status: 'idle' });
      return;
    }
    void attempt;
    // croner's reason, at once and without asking the server (which would only say "not a valid schedule")
    const local = cronProblem(cron) ?? (timezone.trim() ? timeZoneProblem(timezone.trim()) : undefined);
    if (local) {
      setState({ status: 'invalid', message: `Not a valid schedule: ${local.replace(/^(cron|timezone): /, '')}` });
      return;
    }
    const controller = new AbortController();
    setState((s) => ({ status: 'loading', ...(s.status === 'ok' ? { last: s.data } : {}) }));
    const timer = setTimeout(() => {
      api.call('previewSchedule', { query: previewQuery(cron, timezone), signal: controller.signal }).then(
        (data) => {
          if (controller.signal.aborted) return;
          const invalid = data.next.length === 0 && data.description === INVALID_SCHEDULE;
          // The server answers a schedule it cannot read with this description and no fire times.
          setState(invalid ? { status: 'invalid', message: 'Not a valid schedule.' } : { status: 'ok', data });
        },
        (error: unknown) => {
          if (controller.signal.aborted) return;
          const refused = error instanceof ApiClientError && error.status === HTTP_STATUS.BAD_REQUEST;
          setState({ status: refused ? 'invalid' : 'error', message: describeError(error) });
        },
      );
    }, debounceMs);
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
  }, [api, cron, timezone, debounceMs, attempt]);
  return { state, retry: () => setAttempt((n) => n + 1) };
}

function SchedulePreviewView({
  state,
  timezone,
  onRetry,
}: {
  state: PreviewState;
  timezone: string;
  onRetry: () => void;
}) {
  if (state.status === 'idle') return null;
  if (state.status === 'invalid' || state.status === 'error') {
    return (
      <div className="schedule-preview is-error">
        <p className="schedule-meaning is-error" data-testid="schedule-meaning" data-state={state.status} role="alert">
          {state.message}
        </p>
        {state.status === 'error' && (
          <button type="button" className="link-button" onClick={onRetry}>
            Try again
          </button>
        )}
      </div>
    );
  }
  const data = state.status === 'ok' ? state.data : state.last;
  const loading = state.status === 'loading';
  return (
    <div className={`schedule-preview${loading ? ' is-pending' : ''}`} aria-live="polite" aria-busy={loading}>
      <p className="schedule-meaning" data-testid="schedule-meaning" data-state={loading ? 'loading' : 'ok'}>
        {data ? data.description : 'Reading the schedule…'}
        {loading && data && <span className="muted"> · checking…</span>}
      </p>
      {data && (
        <>
          <span className="schedule-next-title">Next fire times</span>
          {data.next.length === 0 ? (
            <p className="inspector-empty" data-testid="schedule-next">
              It never fires.
            </p>
          ) : (
            <ol className="schedule-next" data-testid="schedule-next">
              {data.next.map((iso) => (
                <li key={iso}>
                  <time dateTime={iso} title={iso}>
                    {formatFireTime(iso, timezone)}
                  </time>{' '}
                  <span className="muted">{timeUntil(iso)}</span>
                </li>
              ))}
            </ol>
          )}
        </>
      )}
    </div>
  );
}

/** A select of policies, with every policy explained on its own line and the chosen one marked. */
function PolicyField<P extends string>({
  name,
  policies,
  explanations,
  schema,
  value,
  problems,
  onChange,
}: {
  name: string;
  policies: readonly P[];
  explanations: Record<P, string>;
  schema: JsonSchema;
  value: unknown;
  problems: readonly FieldProblem[];
  onChange: (value: P) => void;
}) {
  const id = useId();
  const { readOnly } = useInspector();
  const current = (typeof value === 'string' ? value : String(schema.default ?? policies[0])) as P;
  const messages = collectMessages(checkValue(schema, value, false), problems);
  return (
    <FieldShell label={humanise(name)} htmlFor={id} messages={messages}>
      <select
        id={id}
        className="inspector-input inspector-select"
        data-testid={paramTestId([name])}
        disabled={readOnly}
        value={current}
        onChange={(e) => onChange(e.target.value as P)}
      >
        {!policies.includes(current) && <option value={current}>{current} (not allowed)</option>}
        {policies.map((p) => (
          <option key={p} value={p}>
            {p}
          </option>
        ))}
      </select>
      <ul className="inspector-choices" data-testid={`${paramTestId([name])}-choices`}>
        {policies.map((p) => (
          <li key={p} className={p === current ? 'is-selected' : undefined}>
            <code>{p}</code> {explanations[p]}
          </li>
        ))}
      </ul>
    </FieldShell>
  );
}

/** The schedule trigger's params: cron with its meaning and next fires, time zone, overlap and catch-up. */
export function ScheduleFields({ params, schema, problems, onChange, debounceMs = 400 }: ScheduleFieldsProps) {
  const cronId = useId();
  const zoneId = useId();
  const listId = useId();
  const { readOnly } = useInspector();
  const props = schema.properties ?? {};
  const cronSchema = props['cron'] ?? { type: 'string' };
  const zoneSchema = props['timezone'] ?? { type: 'string' };

  const set = (key: string, value: unknown) => {
    const next = { ...params };
    if (value === undefined) delete next[key];
    else next[key] = value;
    onChange(next);
  };

  const cron = typeof params['cron'] === 'string' ? params['cron'] : '';
  const zone = typeof params['timezone'] === 'string' ? params['timezone'] : '';
  const effectiveCron = cron || String(cronSchema.default ?? '');
  const effectiveZone = zone || String(zoneSchema.default ?? 'UTC');
  const { state, retry } = useSchedulePreview(effectiveCron, effectiveZone, debounceMs);

  const cronMessages = collectMessages(checkValue(cronSchema, params['cron'], false), problemsUnder(problems, 'cron'));
  const zoneClient = [
    ...checkValue(zoneSchema, params['timezone'], false),
    ...(zone && !isTimeZone(zone) ? [`"${zone}" is not a time zone this browser knows`] : []),
  ];
  const zoneMessages = collectMessages(zoneClient, problemsUnder(problems, 'timezone'));
  const catchUp = (
    typeof params['catchUp'] === 'string' ? params['catchUp'] : props['catchUp']?.default
  ) as CatchUpPolicy;

  return (
    <div className="schedule-fields">
      <FieldShell
        label="Cron"
        htmlFor={cronId}
        help={cronSchema.description}
        messages={cronMessages}
        below={<SchedulePreviewView state={state} timezone={effectiveZone} onRetry={retry} />}
      >
        <input
          id={cronId}
          type="text"
          className="inspector-input mono"
          data-testid="param-cron"
          disabled={readOnly}
          spellCheck={false}
          autoComplete="off"
          placeholder={placeholderOf(cronSchema.default)}
          aria-invalid={cronMessages.length > 0 || undefined}
          value={cron}
          onChange={(e) => set('cron', e.target.value === '' ? undefined : e.target.value)}
        />
      </FieldShell>

      <FieldShell label="Time zone" htmlFor={zoneId} help={zoneSchema.description} messages={zoneMessages}>
        <input
          id={zoneId}
          type="text"
          className="inspector-input"
          data-testid="param-timezone"
          list={listId}
          disabled={readOnly}
          spellCheck={false}
          autoComplete="off"
          placeholder={placeholderOf(zoneSchema.default)}
          aria-invalid={zoneMessages.length > 0 || undefined}
          value={zone}
          onChange={(e) => set('timezone', e.target.value === '' ? undefined : e.target.value)}
        />
        <datalist id={listId}>
          {timeZones().map((z) => (
            <option key={z} value={z} />
          ))}
        </datalist>
      </FieldShell>

      <PolicyField<OverlapPolicy>
        name="overlap"
        policies={OVERLAP_POLICIES}
        explanations={OVERLAP_EXPLANATIONS}
        schema={props['overlap'] ?? { type: 'string' }}
        value={params['overlap']}
        problems={problemsUnder(problems, 'overlap')}
        onChange={(v) => set('overlap', v)}
      />

      <PolicyField<CatchUpPolicy>
        name="catchUp"
        policies={CATCH_UP_POLICIES}
        explanations={CATCH_UP_EXPLANATIONS}
        schema={props['catchUp'] ?? { type: 'string' }}
        value={params['catchUp']}
        problems={problemsUnder(problems, 'catchUp')}
        onChange={(v) => set('catchUp', v)}
      />

      {catchUp === 'all' && props['catchUpLimit'] && (
        <ParamField
          name="catchUpLimit"
          label="Catch-up limit"
          path={['catchUpLimit']}
          schema={props['catchUpLimit']}
          value={params['catchUpLimit']}
          required={false}
          problems={problemsUnder(problems, 'catchUpLimit')}
          onChange={(v) => set('catchUpLimit', v)}
        />
      )}

      <FieldMessages
        messages={collectMessages(
          [],
          problemsOwn(
            problems,
            SHOWN.filter((k) => k !== 'catchUpLimit' || catchUp === 'all'),
          ),
        )}
      />
    </div>
  );
}
