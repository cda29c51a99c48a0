import { Hono } from 'hono';
import { bearerAuth } from './auth.js';

export interface ErpOptions {
  token: string;
}

/** What the ERP has seen, for tests and for the curious: GET /_sandbox/stats. */
export interface ErpStats {
  accepted: number;
  rejected: number;
  replays: number;
  /** How many times each work order (by externalKey) was written. A good run writes each once. */
  writes: Record<string, number>;
  /** The reason each rejected work order was turned away. */
  rejections: Record<string, string>;
}

const REQUIRED = ['externalKey', 'title', 'assetKey'] as const;

/** Why the ERP rejects a work order, or undefined when it accepts it. */
export function erpRejection(body: unknown): { field: string; message: string } | undefined {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    return { field: '', message: 'body must be a JSON object' };
  const record = body as Record<string, unknown>;
  for (const field of REQUIRED) {
    const value = record[field];
    if (typeof value !== 'string' || value.trim() === '') return { field, message: `${field} is required` };
  }
  return undefined;
}

/**
 * An ERP that accepts work orders one per request at `POST /api/erp/work-orders`, rejects those
 * missing required fields with 422 and a reason, and honours `Idempotency-Key`: a repeated key gets
 * the first answer again (with `Idempotent-Replayed: true`) and writes nothing.
 */
export function erpApp(o: ErpOptions): { app: Hono; stats: () => ErpStats; reset: () => void } {
  const app = new Hono();
  let seen = new Map<string, { status: 201 | 422; body: unknown }>();
  let stats: ErpStats = { accepted: 0, rejected: 0, replays: 0, writes: {}, rejections: {} };
  let nextId = 1;

  app.get('/_sandbox/stats', (c) => c.json(stats));
  app.post('/_sandbox/reset', (c) => {
    reset();
    return c.json({ ok: true });
  });
  app.use('/api/*', bearerAuth(o.token));

  app.post('/api/erp/work-orders', async (c) => {
    const idem = c.req.header('idempotency-key');
    const previous = idem ? seen.get(idem) : undefined;
    if (previous) {
      stats.replays++;
      c.header('Idempotent-Replayed', 'true');
      return c.json(previous.body as object, previous.status);
    }
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return c.json({ error: { code: 'bad_json', message: 'body is not valid JSON' } }, 400);
    }
    const rejection = erpRejection(body);
    const externalKey = String((body as Record<string, unknown> | null)?.externalKey ?? '');
    let answer: { status: 201 | 422; body: unknown };
    if (rejection) {
      stats.rejected++;
      stats.rejections[externalKey] = rejection.message;
      answer = {
        status: 422,
        body: { error: { code: 'validation_failed', message: rejection.message, field: rejection.field } },
      };
    } else {
      stats.accepted++;
      stats.writes[externalKey] = (stats.writes[externalKey] ?? 0) + 1;
      answer = { status: 201, body: { data: { id: `ERP-WO-${nextId++}`, ...(body as object) } } };
    }
    if (idem) seen.set(idem, answer);
    return c.json(answer.body as object, answer.status);
  });

  function reset() {
    seen = new Map();
    stats = { accepted: 0, rejected: 0, replays: 0, writes: {}, rejections: {} };
    nextId = 1;
  }

  return { app, stats: () => stats, reset };
}
