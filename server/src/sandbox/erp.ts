import { type Context, Hono } from 'hono';
import { bearerAuth } from './auth.js';

export interface ErpOptions {
  token: string;
  /** Other bearer tokens it takes (the sandbox's OAuth2 access tokens). */
  accepts?: (token: string) => boolean;
}

/** The kinds of record the ERP takes, each at `POST /api/erp/<entity>` and `POST /api/erp/<entity>/batch`. */
export const ERP_ENTITIES = ['work-orders', 'purchase-orders', 'assets'] as const;
export type ErpEntity = (typeof ERP_ENTITIES)[number];

/** What the ERP has seen of one kind of record. */
export interface ErpEntityStats {
  /** Requests received (a batch counts once), replays included. */
  requests: number;
  /** Batch requests received, replays included. */
  batches: number;
  accepted: number;
  rejected: number;
  replays: number;
  /** Records of batches answered from the per-record idempotency log (their key seen before): not written again. */
  recordReplays: number;
  /** How many times each record (by externalKey, else the id the ERP gave it) was written. */
  writes: Record<string, number>;
  /** The reason each rejected record (by externalKey) was turned away. */
  rejections: Record<string, string>;
}

/** One request the ERP received, in order. */
export interface ErpLogEntry {
  /** When it arrived (epoch ms on the sandbox's clock), before its body was read. */
  at: number;
  entity: ErpEntity;
  kind: 'single' | 'batch';
  idempotencyKey: string | null;
  /** The W3C `traceparent` header it carried (a traced Sluice sends one), else null. */
  traceparent: string | null;
  /** Records in the request. */
  records: number;
  accepted: number;
  rejected: number;
  replayed: boolean;
  /** Records of a batch answered from the per-record idempotency log (written by an earlier request). */
  replayedRecords: number;
  status: number;
}

/** What the ERP has seen, for tests and for the curious: GET /_sandbox/stats. */
export interface ErpStats {
  /** Work orders accepted (single and batch requests). */
  accepted: number;
  /** Work orders rejected (single and batch requests). */
  rejected: number;
  /** Requests answered from the idempotency log (any entity, single or batch). */
  replays: number;
  /** Records of batches answered from the per-record idempotency log (any entity). */
  recordReplays: number;
  /** How many times each work order (by externalKey) was written. A good run writes each once. */
  writes: Record<string, number>;
  /** The reason each rejected work order was turned away. */
  rejections: Record<string, string>;
  /** The same per kind of record. */
  entities: Record<ErpEntity, ErpEntityStats>;
  /** The requests received, oldest first (the last 10,000). */
  log: ErpLogEntry[];
}

const LOG_LIMIT = 10_000;
const BATCH_LIMIT = 1000;

const nonEmptyText = (value: unknown) => typeof value === 'string' && value.trim() !== '';

/** Per kind of record: which fields must be there, in the order they are checked. */
const RULES: Record<ErpEntity, { field: string; check: (value: unknown) => boolean; message: string }[]> = {
  'work-orders': ['externalKey', 'title', 'assetKey'].map((field) => ({
    field,
    check: nonEmptyText,
    message: `${field} is required`,
  })),
  'purchase-orders': [
    { field: 'supplierId', check: nonEmptyText, message: 'supplierId is required' },
    {
      field: 'lines',
      check: (value) => Array.isArray(value) && value.length > 0,
      message: 'lines must be a non-empty array',
    },
  ],
  assets: [{ field: 'name', check: nonEmptyText, message: 'name is required' }],
};

const ID_PREFIX: Record<ErpEntity, string> = {
  'work-orders': 'ERP-WO',
  'purchase-orders': 'ERP-PO',
  assets: 'ERP-AS',
};

/** Why the ERP rejects a record of a kind, or undefined when it accepts it. */
export function erpRejectionOf(entity: ErpEntity, body: unknown): { field: string; message: string } | undefined {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    return { field: '', message: 'body must be a JSON object' };
  const record = body as Record<string, unknown>;
  for (const rule of RULES[entity]) {
    if (!rule.check(record[rule.field])) return { field: rule.field, message: rule.message };
  }
  return undefined;
}

/** Why the ERP rejects a work order, or undefined when it accepts it. */
export function erpRejection(body: unknown): { field: string; message: string } | undefined {
  return erpRejectionOf('work-orders', body);
}

type Answer = { status: number; body: unknown };

/** What a batch answers for one of its records. */
interface BatchResult {
  index: number;
  key: string | null;
  status: number;
  id?: string;
  error?: unknown;
  /** Answered from the per-record idempotency log: written (or rejected) by an earlier request. */
  replayed?: boolean;
}

function emptyEntityStats(): ErpEntityStats {
  return {
    requests: 0,
    batches: 0,
    accepted: 0,
    rejected: 0,
    replays: 0,
    recordReplays: 0,
    writes: {},
    rejections: {},
  };
}

function emptyStats(): ErpStats {
  return {
    accepted: 0,
    rejected: 0,
    replays: 0,
    recordReplays: 0,
    writes: {},
    rejections: {},
    entities: {
      'work-orders': emptyEntityStats(),
      'purchase-orders': emptyEntityStats(),
      assets: emptyEntityStats(),
    },
    log: [],
  };
}

/**
 * An ERP that accepts work orders, purchase orders and assets, one per request at
 * `POST /api/erp/<entity>` (201, or 422 with the reason) or many at `POST /api/erp/<entity>/batch`
 * (body `{"items": [...]}` or an array; 200 when all were written, else 207, with
 * `{results: [{index, key, status: 201|422, id?, error?}]}`). It honours `Idempotency-Key` on both:
 * a repeated key gets the first answer again (with `Idempotent-Replayed: true`) and writes nothing.
 * A batch's records may carry keys of their own (`idempotencyKey`): a record whose key was seen
 * before on that endpoint gets its first result again (`replayed: true`) and is not written, however
 * the records around it were grouped, so a sender that cuts a batch differently when it sends it
 * again still writes each record once.
 */
export function erpApp(o: ErpOptions): { app: Hono; stats: () => ErpStats; reset: () => void } {
  const app = new Hono();
  let seen = new Map<string, Answer>();
  /** The result each record of a batch got, by its own idempotency key (per entity). */
  let seenRecords = new Map<string, BatchResult>();
  let stats = emptyStats();
  let nextId = 1;

  app.get('/_sandbox/stats', (c) => c.json(stats));
  app.post('/_sandbox/reset', (c) => {
    reset();
    return c.json({ ok: true });
  });
  app.use('/api/*', bearerAuth(o.token, o.accepts));
  // what a connection's status check reads: 200 once the token is taken (the ERP has no list to read)
  app.get('/api/erp/status', (c) => c.json({ status: 'ok', entities: ERP_ENTITIES }));

  /** Validates and writes one record; the result a batch reports for it. */
  function writeOne(entity: ErpEntity, record: unknown): { status: 201 | 422; key: string | null; body: unknown } {
    const e = stats.entities[entity];
    const rawKey = (record as Record<string, unknown> | null)?.externalKey;
    const key = typeof rawKey === 'string' || typeof rawKey === 'number' ? String(rawKey) : null;
    const rejection = erpRejectionOf(entity, record);
    if (rejection) {
      e.rejected++;
      e.rejections[key ?? ''] = rejection.message;
      if (entity === 'work-orders') {
        stats.rejected++;
        stats.rejections[key ?? ''] = rejection.message;
      }
      return {
        status: 422,
        key,
        body: { code: 'validation_failed', message: rejection.message, field: rejection.field },
      };
    }
    const id = `${ID_PREFIX[entity]}-${nextId++}`;
    e.accepted++;
    const written = key ?? id;
    e.writes[written] = (e.writes[written] ?? 0) + 1;
    if (entity === 'work-orders') {
      stats.accepted++;
      stats.writes[key ?? ''] = (stats.writes[key ?? ''] ?? 0) + 1;
    }
    return { status: 201, key, body: { id, ...(record as object) } };
  }

  function log(entry: ErpLogEntry) {
    stats.log.push(entry);
    if (stats.log.length > LOG_LIMIT) stats.log.splice(0, stats.log.length - LOG_LIMIT);
  }

  /** Answers from the idempotency log when the key was seen on this endpoint before. */
  function replay(c: Context, entity: ErpEntity, kind: 'single' | 'batch', idem: string | undefined, at: number) {
    const previous = idem ? seen.get(`${entity}/${kind}:${idem}`) : undefined;
    if (!previous) return undefined;
    stats.replays++;
    const e = stats.entities[entity];
    e.replays++;
    e.requests++;
    if (kind === 'batch') e.batches++;
    const results = (previous.body as { results?: unknown[] }).results;
    log({
      at,
      entity,
      kind,
      idempotencyKey: idem ?? null,
      traceparent: c.req.header('traceparent') ?? null,
      records: results?.length ?? 1,
      accepted: 0,
      rejected: 0,
      replayed: true,
      replayedRecords: 0,
      status: previous.status,
    });
    c.header('Idempotent-Replayed', 'true');
    return c.json(previous.body as object, previous.status as 200);
  }

  for (const entity of ERP_ENTITIES) {
    app.post(`/api/erp/${entity}`, async (c) => {
      const at = Date.now();
      const idem = c.req.header('idempotency-key');
      const replayed = replay(c, entity, 'single', idem, at);
      if (replayed) return replayed;
      let body: unknown;
      try {
        body = await c.req.json();
      } catch {
        return c.json({ error: { code: 'bad_json', message: 'body is not valid JSON' } }, 400);
      }
      stats.entities[entity].requests++;
      const result = writeOne(entity, body);
      const answer: Answer =
        result.status === 201
          ? { status: 201, body: { data: result.body } }
          : { status: 422, body: { error: result.body } };
      log({
        at,
        entity,
        kind: 'single',
        idempotencyKey: idem ?? null,
        traceparent: c.req.header('traceparent') ?? null,
        records: 1,
        accepted: result.status === 201 ? 1 : 0,
        rejected: result.status === 201 ? 0 : 1,
        replayed: false,
        replayedRecords: 0,
        status: answer.status,
      });
      if (idem) seen.set(`${entity}/single:${idem}`, answer);
      return c.json(answer.body as object, answer.status as 201);
    });

    app.post(`/api/erp/${entity}/batch`, async (c) => {
      const at = Date.now();
      const idem = c.req.header('idempotency-key');
      const replayed = replay(c, entity, 'batch', idem, at);
      if (replayed) return replayed;
      let body: unknown;
      try {
        body = await c.req.json();
      } catch {
        return c.json({ error: { code: 'bad_json', message: 'body is not valid JSON' } }, 400);
      }
      const items = Array.isArray(body) ? body : (body as { items?: unknown } | null)?.items;
      if (!Array.isArray(items) || items.length === 0) {
        return c.json(
          {
            error: {
              code: 'bad_batch',
              message: 'items: the body must be a non-empty array or an object with a non-empty "items" array',
              field: 'items',
            },
          },
          400,
        );
      }
      if (items.length > BATCH_LIMIT) {
        return c.json(
          {
            error: {
              code: 'batch_too_large',
              message: `items: at most ${BATCH_LIMIT} records per batch`,
              field: 'items',
            },
          },
          413,
        );
      }
      const e = stats.entities[entity];
      e.requests++;
      e.batches++;
      let replayedRecords = 0;
      const results = items.map((item, index): BatchResult => {
        const own = (item as { idempotencyKey?: unknown } | null)?.idempotencyKey;
        const recordKey = typeof own === 'string' && own !== '' ? `${entity}:${own}` : undefined;
        const earlier = recordKey === undefined ? undefined : seenRecords.get(recordKey);
        if (earlier) {
          replayedRecords++;
          return { ...earlier, index, replayed: true };
        }
        const r = writeOne(entity, item);
        const result: BatchResult =
          r.status === 201
            ? { index, key: r.key, status: 201, id: (r.body as { id: string }).id }
            : { index, key: r.key, status: 422, error: r.body };
        if (recordKey !== undefined) seenRecords.set(recordKey, result);
        return result;
      });
      e.recordReplays += replayedRecords;
      stats.recordReplays += replayedRecords;
      const rejected = results.filter((r) => r.status !== 201 && !r.replayed).length;
      const answer: Answer = { status: results.some((r) => r.status !== 201) ? 207 : 200, body: { results } };
      log({
        at,
        entity,
        kind: 'batch',
        idempotencyKey: idem ?? null,
        traceparent: c.req.header('traceparent') ?? null,
        records: items.length,
        accepted: items.length - rejected - replayedRecords,
        rejected,
        replayed: false,
        replayedRecords,
        status: answer.status,
      });
      if (idem) seen.set(`${entity}/batch:${idem}`, answer);
      return c.json(answer.body as object, answer.status as 200);
    });
  }

  function reset() {
    seen = new Map();
    seenRecords = new Map();
    stats = emptyStats();
    nextId = 1;
  }

  return { app, stats: () => stats, reset };
}
