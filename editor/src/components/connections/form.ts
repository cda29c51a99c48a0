/**
 * The connection form's logic, apart from React: the API's shapes, the form's values, turning them into
 * a create (POST) or update (PATCH) body, and placing server errors under the field they name.
 */
import {
  type ApiContract,
  type AuthType,
  type CallInput,
  type ConnectionInput,
  type ConnectionStatus,
  type ConnectionView,
  connectionInputSchema,
  HTTP_STATUS,
} from '@sluice/shared';
import { ApiClientError } from '../../api';

// A connection as the API answers it (the secret masked, '••••abcd', or null) and its status: the contract's.
export { AUTH_TYPES } from '@sluice/shared';
export { describeLimits } from '../../lib/waiting';
export type { AuthType, ConnectionStatus, ConnectionView };

type Breaker = NonNullable<ConnectionView['breaker']>;

/** What the form sends: a patch of a stored connection, or (with its name) a new one. */
export type ConnectionBody = CallInput<ApiContract['updateConnection']>['body'] & { name?: string };

/** The fields the form shows, each a place an error can be put under. */
export type FieldKey =
  | 'name'
  | 'baseUrl'
  | 'auth'
  | 'username'
  | 'headerName'
  | 'secret'
  | 'checkPath'
  | 'breaker'
  | 'breaker.failureThreshold'
  | 'breaker.cooldownMs'
  | 'limits'
  | 'limits.maxConcurrent'
  | 'limits.maxPerSecond';

const FIELD_KEYS: readonly FieldKey[] = [
  'name',
  'baseUrl',
  'auth',
  'username',
  'headerName',
  'secret',
  'checkPath',
  'breaker',
  'breaker.failureThreshold',
  'breaker.cooldownMs',
  'limits',
  'limits.maxConcurrent',
  'limits.maxPerSecond',
];

export type FieldErrors = Partial<Record<FieldKey, string>>;

export interface FormValues {
  name: string;
  baseUrl: string;
  auth: AuthType;
  username: string;
  headerName: string;
  /** Typed by the user only; never filled from the server. Empty when editing means "keep the stored secret". */
  secret: string;
  /** Editing only: send `secret: null`. */
  removeSecret: boolean;
  checkPath: string;
  failureThreshold: string;
  cooldownMs: string;
  /** Requests in flight at once, over every run and worker; empty: no limit. */
  maxConcurrent: string;
  /** Requests started per second, over every run and worker; empty: no limit. */
  maxPerSecond: string;
  /** Learn the pace the system takes (adaptive pacing), under those limits. */
  adaptive: boolean;
}

export const EMPTY_FORM: FormValues = {
  name: '',
  baseUrl: '',
  auth: 'none',
  username: '',
  headerName: '',
  secret: '',
  removeSecret: false,
  checkPath: '',
  failureThreshold: '',
  cooldownMs: '',
  maxConcurrent: '',
  maxPerSecond: '',
  adaptive: false,
};

/** The form's values for editing a stored connection; the secret is left empty on purpose. */
export function formFromConnection(c: ConnectionView): FormValues {
  return {
    name: c.name,
    baseUrl: c.baseUrl,
    auth: c.auth,
    username: c.username ?? '',
    headerName: c.headerName ?? '',
    secret: '',
    removeSecret: false,
    checkPath: c.checkPath ?? '',
    failureThreshold: c.breaker ? String(c.breaker.failureThreshold) : '',
    cooldownMs: c.breaker ? String(c.breaker.cooldownMs) : '',
    maxConcurrent: c.limits.maxConcurrent !== null ? String(c.limits.maxConcurrent) : '',
    maxPerSecond: c.limits.maxPerSecond !== null ? String(c.limits.maxPerSecond) : '',
    adaptive: c.limits.adaptive,
  };
}

export const AUTH_LABELS: Record<AuthType, string> = {
  none: 'None',
  bearer: 'Bearer token',
  basic: 'Basic (user name and password)',
  'api-key': 'API key in a header',
};

/** What the secret is called for an auth type. */
export function secretLabel(auth: AuthType): string {
  return auth === 'basic' ? 'Password' : auth === 'api-key' ? 'API key' : 'Token';
}

/** A short line for the list: "Bearer token", "Basic, user alice", "API key in X-API-Key". */
export function describeAuth(c: Pick<ConnectionView, 'auth' | 'username' | 'headerName'>): string {
  switch (c.auth) {
    case 'none':
      return 'No auth';
    case 'bearer':
      return 'Bearer token';
    case 'basic':
      return c.username ? `Basic, user ${c.username}` : 'Basic';
    case 'api-key':
      return c.headerName ? `API key in ${c.headerName}` : 'API key';
    default:
      return String(c.auth);
  }
}

const NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;
const HEADER = /^[A-Za-z0-9-]{1,100}$/;

function wholeNumber(text: string): number | null {
  const t = text.trim();
  if (!/^\d+$/.test(t)) return null;
  return Number(t);
}

export type BuildResult = { ok: true; body: ConnectionBody } | { ok: false; errors: FieldErrors };

/**
 * The request body for the form: a full connection to create when `original` is absent, else a patch
 * for it (name left out; `secret` left out to keep the stored one, null to remove it).
 * Checks what can be checked here so the common mistakes show before a round trip.
 */
export function buildBody(values: FormValues, original?: ConnectionView | null): BuildResult {
  const editing = Boolean(original);
  const errors: FieldErrors = {};
  const name = values.name.trim();
  const baseUrl = values.baseUrl.trim();
  const username = values.username.trim();
  const headerName = values.headerName.trim();
  const checkPath = values.checkPath.trim();
  const { auth, secret } = values;
  const hasStoredSecret = Boolean(original?.secret);

  if (!editing) {
    if (!name) errors.name = 'Give the connection a name.';
    else if (!NAME.test(name)) errors.name = 'Use 1-63 lowercase letters, digits, dots, dashes or underscores.';
  }
  if (!baseUrl) errors.baseUrl = 'Give the base URL, e.g. https://api.example.com.';
  else if (!/^https?:\/\/\S+$/i.test(baseUrl)) errors.baseUrl = 'Must be an absolute http(s) URL.';
  if (auth === 'basic' && !username) errors.username = 'Basic auth needs a user name.';
  if (auth === 'api-key') {
    if (!headerName) errors.headerName = 'Name the header the key is sent in, e.g. X-API-Key.';
    else if (!HEADER.test(headerName)) errors.headerName = 'Must be an HTTP header name (letters, digits, dashes).';
  }
  const removing = editing && values.removeSecret;
  if ((auth === 'bearer' || auth === 'api-key') && (removing || (!secret && !hasStoredSecret))) {
    const what = auth === 'bearer' ? 'Bearer auth needs a token' : 'API key auth needs an API key';
    errors.secret = removing ? `${what}: type a new one to replace it instead of removing it.` : `${what}.`;
  }

  let breaker: Breaker | undefined;
  const thresholdText = values.failureThreshold.trim();
  const cooldownText = values.cooldownMs.trim();
  if (thresholdText || cooldownText) {
    const failureThreshold = wholeNumber(thresholdText);
    const cooldownMs = wholeNumber(cooldownText);
    if (!thresholdText) errors['breaker.failureThreshold'] = 'Give both the threshold and the cooldown, or neither.';
    else if (failureThreshold === null || failureThreshold < 1 || failureThreshold > 1000)
      errors['breaker.failureThreshold'] = 'A whole number from 1 to 1000.';
    if (!cooldownText) errors['breaker.cooldownMs'] = 'Give both the threshold and the cooldown, or neither.';
    else if (cooldownMs === null || cooldownMs < 100 || cooldownMs > 3_600_000)
      errors['breaker.cooldownMs'] = 'Milliseconds, from 100 to 3600000.';
    if (failureThreshold !== null && cooldownMs !== null) breaker = { failureThreshold, cooldownMs };
  } else if (original?.breaker) {
    errors.breaker = 'A breaker cannot be removed once set; keep its values or change them.';
  }

  const limits: NonNullable<ConnectionBody['limits']> = {};
  const concurrentText = values.maxConcurrent.trim();
  if (concurrentText) {
    const maxConcurrent = wholeNumber(concurrentText);
    if (maxConcurrent === null || maxConcurrent < 1 || maxConcurrent > 1000)
      errors['limits.maxConcurrent'] = 'A whole number from 1 to 1000.';
    else limits.maxConcurrent = maxConcurrent;
  }
  const perSecondText = values.maxPerSecond.trim();
  if (perSecondText) {
    const maxPerSecond = /^\d*\.?\d+$/.test(perSecondText) ? Number(perSecondText) : Number.NaN;
    if (!(maxPerSecond > 0 && maxPerSecond <= 10_000))
      errors['limits.maxPerSecond'] = 'A number above 0, at most 10000 (0.5: one request every 2 s).';
    else limits.maxPerSecond = maxPerSecond;
  }
  if (values.adaptive) limits.adaptive = true;
  const hadLimits =
    original?.limits.maxConcurrent != null ||
    original?.limits.maxPerSecond != null ||
    original?.limits.adaptive === true;

  if (Object.keys(errors).length > 0) return { ok: false, errors };

  const body: ConnectionBody = editing ? { baseUrl, auth } : { name, baseUrl, auth };
  if (auth === 'basic') body.username = username;
  if (auth === 'api-key') body.headerName = headerName;
  if (auth === 'none') {
    // No credentials are sent with "none": a stored secret would only linger, so it goes.
    if (hasStoredSecret) body.secret = null;
  } else if (removing) {
    body.secret = null;
  } else if (secret) {
    body.secret = secret;
  }
  if (checkPath || editing) body.checkPath = checkPath;
  if (breaker) body.breaker = breaker;
  // emptied fields remove stored limits: the patch replaces the limits as a whole
  if (Object.keys(limits).length > 0 || hadLimits) body.limits = limits;
  return { ok: true, body };
}

/**
 * A new connection's body read with the server's own schema (so the call is typed as the contract's
 * input); what the schema refuses is thrown as the server would answer it, naming the field, so it is
 * placed under that field like a server error.
 */
export function newConnectionInput(body: ConnectionBody): ConnectionInput {
  const parsed = connectionInputSchema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const path = issue?.path.map(String).join('.') || 'request body';
  throw new ApiClientError(HTTP_STATUS.BAD_REQUEST, 'bad_request', `${path}: ${issue?.message ?? 'invalid'}`, path);
}

/** The form field a server path names ("breaker.cooldownMs", "username"…), if the form has one. */
export function fieldForPath(path: string | undefined): FieldKey | null {
  if (!path) return null;
  if ((FIELD_KEYS as readonly string[]).includes(path)) return path as FieldKey;
  if (path.startsWith('breaker.')) return 'breaker';
  if (path.startsWith('limits.')) return 'limits';
  return null;
}

/**
 * Where a failed save's message goes: under a field when it is a 4xx naming one
 * (the "field: " prefix dropped, the field being right there), else at the top of the form.
 */
export function placeError(
  error: unknown,
  describe: (e: unknown) => string,
): { field: FieldKey | null; message: string } {
  if (error instanceof ApiClientError && error.status >= 400 && error.status < 500) {
    const field = fieldForPath(error.path);
    if (field) {
      const prefix = `${error.path}: `;
      const message = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
      return { field, message: capitalise(message) };
    }
  }
  return { field: null, message: describe(error) };
}

function capitalise(text: string): string {
  return text ? text[0]!.toUpperCase() + text.slice(1) : text;
}

/** The newer of two statuses (a check done here is kept over an older one the list still has). */
export function newerStatus(
  a: ConnectionStatus | null,
  b: ConnectionStatus | null | undefined,
): ConnectionStatus | null {
  if (!b) return a;
  if (!a) return b;
  return Date.parse(b.checkedAt) > Date.parse(a.checkedAt) ? b : a;
}

/** "5 failures, then 30 s paused". */
export function describeBreaker(b: Breaker): string {
  const seconds = b.cooldownMs / 1000;
  const pause = b.cooldownMs < 1000 ? `${b.cooldownMs} ms` : `${Number(seconds.toFixed(1))} s`;
  return `opens after ${b.failureThreshold} failure${b.failureThreshold === 1 ? '' : 's'}, pauses ${pause}`;
}
