/**
 * Misbehaviour on demand for a sandbox system: rate limits, transient 5xx, latency, downtime,
 * expired credentials and a slow first byte, as a Hono middleware mounted in front of the system.
 * Set through `PUT <system>/_sandbox/faults` (GET reads, DELETE clears) or from tests through the
 * sandbox handle (`sandbox.faults.erp.set({...})`). Every random choice comes from a PRNG seeded
 * with `seed` and the request's number, so a seed and a sequence of requests give the same faults.
 * Paths under `_sandbox/` (this admin endpoint, the ERP's stats) are never faulted.
 */
import type { HttpBindings } from '@hono/node-server';
import { Hono, type MiddlewareHandler } from 'hono';
import { z } from 'zod';

const ms = z.number().int().min(0).max(3_600_000);
const count = z.number().int().min(1).max(1_000_000_000);

/** A time when the system is down: from `from` ms until `until` ms after the faults were set, or for `requests` requests. */
const downWindow = z
  .strictObject({
    from: ms.default(0).describe('Start, in ms after the faults were set.'),
    until: ms.optional().describe('End, in ms after the faults were set.'),
    requests: count.optional().describe('Instead of an end: how many requests (arriving from `from` on) find it down.'),
    answer: z
      .union([z.literal('reset'), z.literal(503)])
      .default('reset')
      .describe('What a request gets while down: its connection reset, or a 503.'),
  })
  .refine((w) => (w.until === undefined) !== (w.requests === undefined), {
    message: 'give either until (ms) or requests (a count)',
  })
  .refine((w) => w.until === undefined || w.until > w.from, { message: 'until must be after from', path: ['until'] });

export const faultSettings = z.strictObject({
  seed: z.number().int().default(1).describe('Seed of every random choice.'),
  rateLimit: z
    .strictObject({ requests: count, windowMs: z.number().int().min(1).max(3_600_000) })
    .optional()
    .describe('At most `requests` per fixed window of `windowMs` (from when set); more get 429 + Retry-After.'),
  hiddenLimit: z
    .strictObject({ perSecond: count })
    .optional()
    .describe(
      'At most `perSecond` requests in any one second (a sliding window); more get 429 with nothing that tells the limit or when to come back: no Retry-After, no rate-limit headers.',
    ),
  transient: z
    .strictObject({
      share: z.number().min(0).max(1),
      status: z.union([z.literal(500), z.literal(502), z.literal(503), z.literal(504)]).default(503),
      retryAfter: z.number().int().min(0).max(3600).optional().describe('Retry-After seconds sent with them.'),
    })
    .optional()
    .describe('A share (0..1) of requests answered with a 5xx.'),
  latency: z
    .union([
      z.strictObject({ ms }),
      z.strictObject({ min: ms, max: ms }).refine((l) => l.min <= l.max, { message: 'min must not exceed max' }),
    ])
    .optional()
    .describe('Delay before the system sees a request: fixed, or uniform within [min, max].'),
  down: z.union([downWindow, z.array(downWindow).max(100)]).optional(),
  expiredCredentials: z
    .union([z.boolean(), z.strictObject({ afterRequests: z.number().int().min(0) })])
    .optional()
    .describe('Every request (or every one after the first `afterRequests`) gets 401 until cleared.'),
  slowFirstByteMs: ms.optional().describe('Delay before the response headers are sent.'),
});

/** Fault settings as given (defaults optional). */
export type FaultSettingsInput = z.input<typeof faultSettings>;
/** Fault settings with defaults applied. */
export type FaultSettings = z.output<typeof faultSettings>;

export interface FaultStats {
  /** Requests seen since the faults were set (admin paths not counted). */
  requests: number;
  /** How many requests each fault answered. */
  faulted: { down: number; expiredCredentials: number; rateLimit: number; hiddenLimit: number; transient: number };
  /** Requests that were delayed (latency or slow first byte). */
  delayed: number;
  /** When the hidden limit answered 429 (Unix ms), the last 10,000. */
  hiddenLimitAt: number[];
}

export interface FaultView {
  settings: FaultSettings | null;
  /** When the settings were set (ISO time), or null. */
  since: string | null;
  stats: FaultStats;
}

export interface Faults {
  /** Replaces the settings (validated; throws on bad ones) and starts counting afresh. */
  set(settings: FaultSettingsInput): FaultView;
  get(): FaultView;
  /** No more faults. */
  clear(): FaultView;
  /** Goes in front of the system. */
  middleware: MiddlewareHandler;
  /** The admin endpoint: GET, PUT and DELETE at its root. */
  admin: Hono;
}

interface State {
  settings: FaultSettings;
  windows: z.output<typeof downWindow>[];
  setAt: number;
  rateWindow: number;
  rateCount: number;
  downCounts: number[];
  /** When the requests the hidden limit let through over the last second came. */
  hiddenAdmitted: number[];
  stats: FaultStats;
}

const emptyStats = (): FaultStats => ({
  requests: 0,
  faulted: { down: 0, expiredCredentials: 0, rateLimit: 0, hiddenLimit: 0, transient: 0 },
  delayed: 0,
  hiddenLimitAt: [],
});

/** The faults of one sandbox system. `now` is the clock for windows (the real one unless a test says). */
export function createFaults(options: { now?: () => number; initial?: FaultSettingsInput } = {}): Faults {
  const now = options.now ?? Date.now;
  let state: State | undefined;
  let idleStats = emptyStats();

  const view = (): FaultView => ({
    settings: state?.settings ?? null,
    since: state ? new Date(state.setAt).toISOString() : null,
    stats: structuredClone(state?.stats ?? idleStats),
  });

  const set = (input: FaultSettingsInput): FaultView => {
    const settings = faultSettings.parse(input);
    const windows = settings.down === undefined ? [] : Array.isArray(settings.down) ? settings.down : [settings.down];
    state = {
      settings,
      windows,
      setAt: now(),
      rateWindow: -1,
      rateCount: 0,
      downCounts: windows.map(() => 0),
      hiddenAdmitted: [],
      stats: emptyStats(),
    };
    return view();
  };

  const clear = (): FaultView => {
    state = undefined;
    idleStats = emptyStats();
    return view();
  };

  const middleware: MiddlewareHandler = async (c, next) => {
    const s = state;
    if (!s || c.req.path.includes('/_sandbox/')) return next();
    const { settings } = s;
    const n = s.stats.requests++;
    const random = prng(settings.seed, n);
    const transientDraw = random();
    const latencyDraw = random();

    const latency = !settings.latency
      ? 0
      : 'ms' in settings.latency
        ? settings.latency.ms
        : settings.latency.min + Math.floor(latencyDraw * (settings.latency.max - settings.latency.min + 1));
    const slow = settings.slowFirstByteMs ?? 0;
    if (latency > 0 || slow > 0) s.stats.delayed++;
    if (latency > 0) await sleep(latency);

    const t = now() - s.setAt;
    const down = s.windows.findIndex((w, i) => {
      if (t < w.from) return false;
      if (w.until !== undefined) return t < w.until;
      if ((s.downCounts[i] ?? 0) >= (w.requests ?? 0)) return false;
      s.downCounts[i] = (s.downCounts[i] ?? 0) + 1;
      return true;
    });
    let answer: Response | undefined;
    if (down >= 0) {
      s.stats.faulted.down++;
      const incoming = (c.env as Partial<HttpBindings> | undefined)?.incoming;
      if (s.windows[down]?.answer === 'reset' && incoming) {
        incoming.socket.destroy();
        return new Response(null, { status: 503 }); // never written: the connection is gone
      }
      answer = c.json({ error: { code: 'unavailable', message: 'the system is down for maintenance' } }, 503);
    } else if (expired(settings.expiredCredentials, n)) {
      s.stats.faulted.expiredCredentials++;
      c.header('WWW-Authenticate', 'Bearer error="invalid_token", error_description="the access token expired"');
      answer = c.json({ error: { code: 'token_expired', message: 'the access token has expired' } }, 401);
    } else if (settings.rateLimit && !admitted(s, settings.rateLimit, t)) {
      s.stats.faulted.rateLimit++;
      const { requests, windowMs } = settings.rateLimit;
      const left = (s.rateWindow + 1) * windowMs - t;
      c.header('Retry-After', String(Math.max(1, Math.ceil(left / 1000))));
      answer = c.json(
        { error: { code: 'rate_limited', message: `too many requests: at most ${requests} per ${windowMs} ms` } },
        429,
      );
    } else if (settings.hiddenLimit && !admittedHidden(s, settings.hiddenLimit.perSecond, t)) {
      s.stats.faulted.hiddenLimit++;
      s.stats.hiddenLimitAt.push(now());
      if (s.stats.hiddenLimitAt.length > 10_000) s.stats.hiddenLimitAt.shift();
      answer = c.json({ error: { code: 'too_many_requests', message: 'too many requests' } }, 429);
    } else if (settings.transient && transientDraw < settings.transient.share) {
      s.stats.faulted.transient++;
      const { status, retryAfter } = settings.transient;
      if (retryAfter !== undefined) c.header('Retry-After', String(retryAfter));
      answer = c.json({ error: { code: 'unavailable', message: 'temporarily unavailable, try again' } }, status);
    }
    if (answer) {
      if (slow > 0) await sleep(slow);
      return answer;
    }
    await next();
    if (slow > 0) await sleep(slow);
  };

  const admin = new Hono();
  admin.get('/', (c) => c.json(view()));
  admin.put('/', async (c) => {
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return c.json({ error: { code: 'bad_json', message: 'body is not valid JSON' } }, 400);
    }
    const parsed = faultSettings.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
      return c.json(
        { error: { code: 'bad_request', message: `${where}${issue?.message ?? 'invalid settings'}` } },
        400,
      );
    }
    return c.json(set(parsed.data));
  });
  admin.delete('/', (c) => c.json(clear()));

  if (options.initial) set(options.initial);
  return { set, get: view, clear, middleware, admin };
}

function expired(setting: FaultSettings['expiredCredentials'], n: number): boolean {
  if (setting === undefined || setting === false) return false;
  if (setting === true) return true;
  return n >= setting.afterRequests;
}

/** Counts a request into the fixed window it falls in; false when the window is full. */
function admitted(s: State, limit: { requests: number; windowMs: number }, t: number): boolean {
  const window = Math.floor(t / limit.windowMs);
  if (window !== s.rateWindow) {
    s.rateWindow = window;
    s.rateCount = 0;
  }
  if (s.rateCount >= limit.requests) return false;
  s.rateCount++;
  return true;
}

/** mulberry32, seeded per request from the settings' seed and the request's number. */
function prng(seed: number, n: number): () => number {
  let a = (Math.imul(seed | 0, 0x9e3779b1) ^ Math.imul(n + 1, 0x85ebca6b)) >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Whether a request at `t` fits the hidden limit: fewer than `perSecond` let through in the second before it. */
function admittedHidden(s: State, perSecond: number, t: number): boolean {
  const admitted = s.hiddenAdmitted;
  while (admitted.length && (admitted[0] as number) <= t - 1000) admitted.shift();
  if (admitted.length >= perSecond) return false;
  admitted.push(t);
  return true;
}
