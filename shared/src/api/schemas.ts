/**
 * The bodies the HTTP API takes and answers, as zod schemas. The server validates requests with them
 * and declares its answers with them (so `/api/openapi.json` describes every answer), the typed client
 * takes its types from them, and a server test parses real answers with them. Answer objects are strict:
 * a key the server sends but no schema declares is drift, and the test says so.
 */
import { z } from 'zod';
import { flowSchema } from '../flow.js';
import type { Problem } from '../validate.js';
import {
  NODE_GROUPS,
  type NodeCounts,
  RECORD_STATUSES,
  RUN_STATUSES,
  type RunCounts,
  TRIGGER_KINDS,
} from '../vocabulary.js';
import { ROLES } from './roles.js';

const instant = z.string().describe('An ISO 8601 instant, e.g. 2026-11-28T00:00:00.000Z.');
/** Run ids are decimal strings (SQLite row ids), never numbers: they may outgrow a double's integers. */
const runId = z.string().describe('A run id (decimal digits).');

// ---- errors ------------------------------------------------------------------------------------------

export const problemSchema = z
  .strictObject({
    severity: z.enum(['error', 'warning']),
    code: z.string().describe('Stable machine-readable kind, e.g. "unknown-node-type".'),
    path: z.string().describe('Where in the document, e.g. "nodes[2].params.size".'),
    message: z.string(),
    nodeId: z.string().optional(),
  })
  .describe('A problem of a flow document.') satisfies z.ZodType<Problem>;

/** Body of every error answer of the HTTP API. */
export const apiErrorBodySchema = z.strictObject({
  error: z.strictObject({
    code: z.string().describe('Stable machine-readable kind, e.g. "not_found".'),
    message: z.string().describe('What is wrong, naming the field at fault.'),
    path: z.string().optional().describe('The field at fault.'),
    permission: z.string().optional().describe('On a 403: the permission the request needs.'),
    problems: z.array(problemSchema).optional().describe('Every problem of a flow document that was refused.'),
  }),
});
export type ApiErrorBody = z.output<typeof apiErrorBodySchema>;

// ---- lists -------------------------------------------------------------------------------------------

/** A page of a cursor-paged list: pass `nextCursor` back as `cursor` for the next one. */
export function pageOf<T extends z.ZodType>(item: T) {
  return z.strictObject({
    items: z.array(item),
    nextCursor: z.string().nullable().describe('Pass as `cursor` to get the next page; null on the last page.'),
  });
}

/** A list answered whole (short by nature: a flow's versions, hooks, watermarks). */
export function listOf<T extends z.ZodType>(item: T) {
  return z.strictObject({ items: z.array(item) });
}

export interface Page<T> {
  items: T[];
  /** Pass as `cursor` to get the next page; null on the last page. */
  nextCursor: string | null;
}

// ---- flows -------------------------------------------------------------------------------------------

export const flowSummarySchema = z.strictObject({
  id: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  latestVersion: z.number().int(),
  publishedVersion: z
    .number()
    .int()
    .nullable()
    .describe('The version schedules and webhooks run; null until published.'),
  enabled: z.boolean().describe('Whether its schedules fire and its webhooks accept records.'),
  createdAt: instant,
  updatedAt: instant,
  archivedAt: instant
    .nullable()
    .describe('When it was deleted while it had runs: hidden from the list, its history kept, restorable.'),
});
export type FlowSummary = z.output<typeof flowSummarySchema>;

export const flowVersionSummarySchema = z.strictObject({
  version: z.number().int(),
  versionId: z.string(),
  createdAt: instant,
  published: z.boolean(),
  errors: z
    .number()
    .int()
    .describe("Errors in this version's document (a version with errors cannot be published or run)."),
});
export type FlowVersionSummary = z.output<typeof flowVersionSummarySchema>;

export const flowDetailSchema = flowSummarySchema.extend({
  version: z.number().int().describe('The version whose document this is.'),
  versionId: z.string(),
  document: flowSchema,
  problems: z.array(problemSchema),
});
export type FlowDetail = z.output<typeof flowDetailSchema>;

export const validationAnswerSchema = z.strictObject({ ok: z.boolean(), problems: z.array(problemSchema) });

export const templateSchema = z.strictObject({
  file: z.string().describe('Its file in examples/.'),
  name: z.string(),
  description: z.string().nullable(),
  // served as the file has it (defaults not applied), so it is declared as an object, not as a parsed flow
  document: z.record(z.string(), z.unknown()).describe('A flow document (format 1), as written in the file.'),
});
export type Template = z.output<typeof templateSchema>;

export const nodeTypeViewSchema = z.strictObject({
  type: z.string(),
  group: z.enum(NODE_GROUPS),
  label: z.string(),
  description: z.string(),
  input: z.boolean(),
  outputs: z.array(z.string()),
  role: z.enum(['trigger', 'source', 'sink', 'error-handler']).nullable(),
  providesRecords: z.boolean(),
  params: z.record(z.string(), z.unknown()).describe("JSON Schema of the type's parameters."),
});
export type NodeTypeView = z.output<typeof nodeTypeViewSchema>;

// ---- runs --------------------------------------------------------------------------------------------

export const runCountsSchema = z.strictObject({
  read: z.number().int(),
  succeeded: z.number().int(),
  filtered: z.number().int(),
  failed: z.number().int(),
  cancelled: z.number().int(),
}) satisfies z.ZodType<RunCounts>;

export const nodeCountsSchema = z.strictObject({
  in: z.number().int(),
  out: z.number().int(),
  error: z.number().int(),
  filtered: z.number().int(),
  cacheHits: z.number().int().optional().describe('HTTP lookup: lookups answered from its cache, not by a request.'),
}) satisfies z.ZodType<NodeCounts>;

export const WAITING_KINDS = ['delay', 'rate', 'breaker', 'retry', 'limit'] as const;

/** The pace a connection with adaptive pacing keeps now, learnt from the system's answers. */
export const paceSchema = z.strictObject({
  perSecond: z.number().nullable().describe('Requests a second now; null: not held back below the maxima.'),
  concurrency: z.number().int().nullable().describe('Requests at once now; null: not held back below the maxima.'),
  reason: z
    .string()
    .describe(
      'Why it last changed: start, throttled (429/503), retry-after, rate-limit-headers, latency or recovering.',
    ),
});
export type PaceView = z.output<typeof paceSchema>;

export const waitingSchema = z
  .strictObject({
    kind: z.enum(WAITING_KINDS),
    nodeId: z.string(),
    until: instant.describe(
      "When the wait ends. For a connection's limit: the permit's slot when its pace sets it, else when the wait began (it ends when a request of another run finishes).",
    ),
    connection: z.string().optional(),
    limits: z
      .strictObject({
        maxConcurrent: z.number().int().optional(),
        maxPerSecond: z.number().optional(),
        adaptive: z.boolean().optional(),
      })
      .optional()
      .describe('For a wait on a connection’s limit: the limits waited on.'),
    pace: paceSchema.optional().describe('For a wait on a connection with adaptive pacing: the pace it keeps now.'),
  })
  .describe(
    "Why the run is not moving right now: a delay, a rate limit, an open circuit breaker, a retry wait, a connection's limit.",
  );
export type Waiting = z.output<typeof waitingSchema>;

export const runSummarySchema = z.strictObject({
  id: runId,
  runNumber: z.number().int().nullable().describe("Its number among its flow's runs: 3 is the flow's third run."),
  flowId: z.string().nullable(),
  flowVersion: z.number().int().nullable(),
  flowName: z.string(),
  status: z.enum(RUN_STATUSES),
  trigger: z.enum(TRIGGER_KINDS),
  counts: runCountsSchema,
  error: z.string().nullable(),
  waiting: waitingSchema.nullable(),
  retryOf: runId.nullable().describe('For a retry run: the run whose failed records it feeds again.'),
  scheduledFor: instant.nullable().describe('For a scheduled run: the fire time it was started for.'),
  prunedAt: instant.nullable().describe('When retention removed its record outcomes (its summary and counts stay).'),
  executor: z
    .string()
    .nullable()
    .describe(
      'The process that executes the run, or last executed it (host/pid/id); null for a run no process has taken up yet.',
    ),
  claims: z
    .number()
    .int()
    .min(0)
    .describe(
      'How many times a process took the run up: 1 for a run one process executed from start to end; more when another process resumed it (its executor died or was cut off).',
    ),
  createdAt: instant,
  startedAt: instant.nullable(),
  finishedAt: instant.nullable(),
});
export type RunSummary = z.output<typeof runSummarySchema>;

export const batchSummarySchema = z.strictObject({
  batchNo: z.number().int(),
  size: z.number().int(),
  succeeded: z.number().int(),
  filtered: z.number().int(),
  failed: z.number().int(),
  startedAt: instant,
  finishedAt: instant.nullable(),
});
export type BatchSummary = z.output<typeof batchSummarySchema>;

export const etaSchema = z
  .strictObject({
    remainingMs: z.number().int().describe('Time left, in ms.'),
    at: instant.describe('When the run should finish.'),
    recordsPerSecond: z
      .number()
      .nullable()
      .describe('Processing rate of the recent window (waits of delays taken out); null when earlier runs gave it.'),
    records: z.number().int().describe('Records the run is expected to read in all.'),
  })
  .describe("A running run's expected finish: its remaining records at the recent rate, plus the waits still owed.");
export type RunEta = z.output<typeof etaSchema>;

export const runDetailSchema = runSummarySchema.extend({
  nodeCounts: z.record(z.string(), nodeCountsSchema),
  batches: z.array(batchSummarySchema),
  eta: etaSchema.nullable().describe('While the run is running: when it should finish; null when unknown or finished.'),
});
export type RunDetail = z.output<typeof runDetailSchema>;

export const estimatePartSchema = z.strictObject({
  kind: z.enum(['records', 'batches', 'delay', 'rate', 'processing']),
  nodeId: z.string().nullable().describe('The node it comes from; null for the processing time of the whole flow.'),
  ms: z
    .number()
    .int()
    .nullable()
    .describe('Its share of the duration; null when it adds none of its own or is unknown.'),
  known: z.boolean().describe('False when this part cannot be worked out; the text says why.'),
  text: z.string().describe('What it comes from, in words.'),
});

export const flowEstimateSchema = z
  .strictObject({
    flowId: z.string(),
    version: z.number().int(),
    records: z.number().int().nullable().describe('Records a run will read; null when nothing tells.'),
    recordsFrom: z.string().nullable().describe('Where the count comes from.'),
    batches: z.number().int().nullable().describe('Batches of the first batch node.'),
    lowerBoundMs: z
      .number()
      .int()
      .nullable()
      .describe('The waits of delays and rate limits alone (exact for fixed delays).'),
    perRecordMs: z.number().nullable().describe('Processing time per record measured in recent runs, waits taken out.'),
    measuredRuns: z.array(runId).describe('The runs it was measured in.'),
    estimateMs: z.number().int().nullable().describe('The expected duration; null when a part is unknown.'),
    breakdown: z.array(estimatePartSchema),
    facts: z
      .strictObject({
        sourceCounts: z.record(z.string(), z.strictObject({ count: z.number().int(), from: z.string() })),
        lastRun: z.strictObject({ runId, records: z.number().int() }).nullable(),
        perRecord: z.strictObject({ ms: z.number(), runs: z.array(runId) }).nullable(),
      })
      .describe(
        'What the server found beyond the document (counts of sources, the last succeeded run, the measured time), so a client can estimate an edited draft the same way.',
      ),
  })
  .describe('How long a run of the flow should take, and what each part of that comes from.');
export type FlowEstimate = z.output<typeof flowEstimateSchema>;

export const flowDeletedSchema = z.strictObject({
  archived: z.boolean().describe('True when the flow had runs and was archived (restorable) rather than deleted.'),
});

export const runQueuedSchema = z.strictObject({ runId, status: z.literal('queued') });

/** A test run as started: it runs at once, in the process that was asked. */
export const testStartedSchema = z.strictObject({ runId, status: z.literal('running') });

export const nodeTestDataSchema = z.strictObject({
  input: z.array(z.unknown()).describe('The records the node received, in order.'),
  output: z
    .array(z.unknown())
    .describe('The records it emitted (a write that was not sent: the requests it would have made).'),
  failed: z
    .array(z.strictObject({ data: z.unknown(), error: z.string() }))
    .describe('The records that failed at the node, as they entered it, with the reason.'),
  truncated: z.boolean().optional().describe('A list reached its bound and some records were left out.'),
  dryRun: z.boolean().optional().describe('A write that was not sent: `output` holds its would-be requests.'),
  pinned: z.boolean().optional().describe('The node emitted its pinned data instead of running.'),
});
export type NodeTestData = z.output<typeof nodeTestDataSchema>;

export const testDataSchema = z.strictObject({
  runId,
  status: z.enum(RUN_STATUSES),
  error: z.string().nullable(),
  nodes: z.record(z.string(), nodeTestDataSchema).describe('By node id; empty until the test has finished.'),
  nodeCounts: z.record(z.string(), nodeCountsSchema).describe('The test run’s counts per node, as for any run.'),
});
export type TestData = z.output<typeof testDataSchema>;

export const runControlAnswerSchema = z.strictObject({
  runId,
  status: z.enum(['paused', 'running', 'cancelling']).describe('What the run does next.'),
});

export const retryAnswerSchema = z.strictObject({
  runId,
  retryOf: runId,
  version: z.enum(['original', 'current']),
  status: z.literal('queued'),
});

// ---- records -----------------------------------------------------------------------------------------

export const recordErrorSchema = z
  .strictObject({ message: z.string(), code: z.string().optional(), httpStatus: z.number().int().optional() })
  .describe('What a failed record carries: the reason, and the code and HTTP status when a system gave them.');
export type RecordError = z.output<typeof recordErrorSchema>;

export const recordOutcomeSchema = z.strictObject({
  runId,
  seq: z.number().int().describe('Position in read order.'),
  key: z.string(),
  status: z.enum(RECORD_STATUSES),
  nodeId: z.string(),
  batchNo: z.number().int(),
  attempts: z.number().int(),
  error: recordErrorSchema.nullable(),
  payload: z
    .unknown()
    .describe('The record as it was when it failed (the payload sent, for a write), kept for failed records.'),
  payloadTruncated: z
    .strictObject({ bytes: z.number().int(), cap: z.number().int() })
    .optional()
    .describe('Set when the stored payload was cut to the size cap: its full size and the cap.'),
  at: instant,
});
export type RecordOutcomeView = z.output<typeof recordOutcomeSchema>;

export const errorGroupSchema = z.strictObject({
  message: z.string(),
  code: z.string().nullable(),
  httpStatus: z.number().int().nullable(),
  nodeId: z.string(),
  count: z.number().int(),
  sampleKeys: z.array(z.string()).describe('A few keys of records that failed this way.'),
});
export type ErrorGroup = z.output<typeof errorGroupSchema>;

const truncatedSchema = z.strictObject({ bytes: z.number().int(), cap: z.number().int() });

export const collectedRecordSchema = z.strictObject({
  nodeId: z.string(),
  seq: z.number().int(),
  key: z.string(),
  data: z.unknown(),
  dataTruncated: truncatedSchema
    .optional()
    .describe(
      'Set when the stored output was cut to the size cap: its full size and the cap (`data` is then its preview).',
    ),
  payloadTruncated: truncatedSchema
    .optional()
    .describe("Set when the failed record's payload inside `data` was cut to the size cap."),
});
export type CollectedRecord = z.output<typeof collectedRecordSchema>;

export const watermarkSchema = z.strictObject({
  nodeId: z.string(),
  value: z.string(),
  runId,
  updatedAt: instant,
});
export type Watermark = z.output<typeof watermarkSchema>;

// ---- schedules and webhooks --------------------------------------------------------------------------

export const schedulePreviewSchema = z.strictObject({
  description: z.string().describe('The cron in words.'),
  next: z.array(instant).describe('The next fire times.'),
});
export type SchedulePreview = z.output<typeof schedulePreviewSchema>;

export const scheduleViewSchema = schedulePreviewSchema.extend({
  nodeId: z.string(),
  cron: z.string(),
  timezone: z.string(),
  overlap: z.enum(['skip', 'queue', 'cancel-previous']),
  catchUp: z.enum(['none', 'latest', 'all']),
  catchUpLimit: z.number().int(),
  next: z.array(instant).describe('The next five fire times, or none while the flow is disabled or unpublished.'),
  lastSlot: instant.nullable(),
  lastRunId: runId.nullable(),
});
export type ScheduleView = z.output<typeof scheduleViewSchema>;

export const flowSchedulesSchema = z.strictObject({
  enabled: z.boolean(),
  published: z.boolean(),
  schedules: z.array(scheduleViewSchema),
});

export const hookViewSchema = z.strictObject({
  nodeId: z.string(),
  id: z.string(),
  path: z.string().describe('Path to POST records to, on this server.'),
  secret: z.string().describe('For signing: `x-sluice-signature: sha256=<hex HMAC-SHA256 of the body>`.'),
});
export type HookView = z.output<typeof hookViewSchema>;

// ---- connections -------------------------------------------------------------------------------------

export const AUTH_TYPES = ['none', 'bearer', 'basic', 'api-key', 'oauth2'] as const;
export type AuthType = (typeof AUTH_TYPES)[number];

const connectionName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'use 1-63 lowercase letters, digits, dots, dashes or underscores');

const breakerSchema = z.strictObject({
  failureThreshold: z.number().int().min(1).max(1000),
  cooldownMs: z.number().int().min(100).max(3_600_000),
});

/**
 * What a system can take from all of Sluice: shared by every run and every worker process using the
 * connection, so many runs together stay within what the system allows.
 */
export const connectionLimitsSchema = z
  .strictObject({
    maxConcurrent: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .optional()
      .describe('At most this many requests in flight on the connection at once.'),
    maxPerSecond: z
      .number()
      .gt(0)
      .max(10_000)
      .optional()
      .describe('At most this many requests started per second on the connection, spaced evenly.'),
    adaptive: z
      .boolean()
      .optional()
      .describe(
        'Learn the pace the system takes: slower on 429 and 503, Retry-After, rate-limit headers and rising latency, faster again while it keeps up; never above the maxima.',
      ),
  })
  .describe('Limits shared by every run and every worker using this connection; {} removes them.');
export type ConnectionLimitsInput = z.output<typeof connectionLimitsSchema>;

export const OAUTH2_GRANTS = ['client_credentials', 'refresh_token'] as const;
export const OAUTH2_CLIENT_AUTH = ['basic', 'post'] as const;

/** How an `oauth2` connection gets its access tokens; its client secret is the connection's `secret`. */
export const oauth2SettingsSchema = z
  .strictObject({
    grant: z
      .enum(OAUTH2_GRANTS)
      .default('client_credentials')
      .describe(
        'client_credentials: the client id and secret get a token. refresh_token: the stored refresh token does.',
      ),
    tokenUrl: z
      .string()
      .url('must be an absolute http(s) URL')
      .regex(/^https?:\/\//i, 'must be an absolute http(s) URL')
      .describe('The token endpoint, e.g. https://auth.example.com/oauth/token.'),
    clientId: z.string().min(1, 'required').max(500).describe('The client id the token endpoint knows Sluice by.'),
    scopes: z.string().max(2000).optional().describe('Scopes to ask for, separated by spaces.'),
    audience: z.string().max(2000).optional().describe('The API the token is for, when the endpoint asks for one.'),
    clientAuth: z
      .enum(OAUTH2_CLIENT_AUTH)
      .default('basic')
      .describe('How the client id and secret are sent: HTTP Basic (basic), or in the request body (post).'),
  })
  .describe('OAuth2 settings (auth oauth2): tokens are fetched as needed and kept until shortly before they expire.');
export type OAuth2Settings = z.output<typeof oauth2SettingsSchema>;

/** A connection as the API takes it; `secret` and `refreshToken` are write-only. */
export const connectionInputSchema = z.strictObject({
  name: connectionName,
  baseUrl: z
    .string()
    .url('must be an absolute http(s) URL, or postgres:// or mysql:// for a database')
    .regex(
      /^(https?|postgres(ql)?|mysql):\/\//i,
      'must be an absolute http(s) URL, or postgres:// or mysql:// for a database',
    )
    .describe(
      'Where the system is: an http(s) base URL, or a database as postgres://host:port/database or mysql://host:port/database (?tls=off|require|verify), with basic auth (username, secret = password).',
    ),
  auth: z.enum(AUTH_TYPES).default('none'),
  /** Basic auth's user name. */
  username: z.string().min(1).max(200).optional(),
  /** The header an API key is sent in (api-key auth). */
  headerName: z
    .string()
    .regex(/^[A-Za-z0-9-]{1,100}$/, 'must be an HTTP header name')
    .optional(),
  /** Token, password or API key. Stored encrypted; never returned. */
  secret: z.string().min(1).max(10_000).optional(),
  /** Path the status check calls, relative to the base URL. */
  checkPath: z.string().max(2000).optional(),
  breaker: breakerSchema.optional(),
  limits: connectionLimitsSchema.optional(),
  oauth2: oauth2SettingsSchema.optional(),
  /** OAuth2 refresh token (grant refresh_token). Stored encrypted, replaced when the endpoint rotates it; never returned. */
  refreshToken: z.string().min(1).max(10_000).optional(),
});
export type ConnectionInput = z.output<typeof connectionInputSchema>;

/**
 * A connection update: every field optional; `secret: null` removes the secret, `refreshToken: null` the
 * refresh token. `auth` has no default here (a creation's `none`): an update that leaves it out keeps it.
 */
export const connectionPatchSchema = connectionInputSchema
  .omit({ name: true })
  .partial()
  .extend({
    auth: z.enum(AUTH_TYPES).optional(),
    secret: z.string().min(1).max(10_000).nullable().optional(),
    refreshToken: z.string().min(1).max(10_000).nullable().optional(),
  });
export type ConnectionPatch = z.output<typeof connectionPatchSchema>;

export const connectionStatusSchema = z.strictObject({
  state: z.string().describe('ok (2xx), unauthorized (401/403) or error (anything else, or unreachable).'),
  message: z.string().nullable(),
  checkedAt: instant,
});
export type ConnectionStatus = z.output<typeof connectionStatusSchema>;

export const connectionViewSchema = z.strictObject({
  name: z.string(),
  baseUrl: z.string(),
  auth: z.enum(AUTH_TYPES),
  username: z.string().nullable(),
  headerName: z.string().nullable(),
  secret: z.string().nullable().describe('The secret masked (its last four characters), or null when none is stored.'),
  checkPath: z.string().nullable(),
  breaker: z.strictObject({ failureThreshold: z.number().int(), cooldownMs: z.number().int() }).nullable(),
  limits: z
    .strictObject({
      maxConcurrent: z.number().int().nullable(),
      maxPerSecond: z.number().nullable(),
      adaptive: z.boolean().describe('Whether the pace is learnt from the system’s answers (adaptive pacing).'),
    })
    .describe('The limits shared by every run and every worker using the connection; null: none.'),
  oauth2: z
    .strictObject({
      grant: z.enum(OAUTH2_GRANTS),
      tokenUrl: z.string(),
      clientId: z.string(),
      scopes: z.string().nullable(),
      audience: z.string().nullable(),
      clientAuth: z.enum(OAUTH2_CLIENT_AUTH),
    })
    .nullable()
    .describe('OAuth2 settings (auth oauth2), else null.'),
  refreshToken: z.string().nullable().describe('The stored OAuth2 refresh token masked, or null when none is stored.'),
  builtIn: z.boolean(),
  status: connectionStatusSchema.nullable(),
});
export type ConnectionView = z.output<typeof connectionViewSchema>;

// ---- tokens, settings, server ------------------------------------------------------------------------

export const tokenInfoSchema = z.strictObject({
  id: z.number().int(),
  name: z.string(),
  prefix: z.string().describe('The first characters of the token, to tell tokens apart.'),
  createdAt: instant,
  lastUsedAt: instant.nullable(),
  userId: z.string().nullable().describe('The user the token belongs to; null for a service token.'),
  role: z.enum(ROLES).describe('The role it acts with (a user’s token: at most that user’s role).'),
  expiresAt: instant.nullable().describe('When it stops working; null: never.'),
});
export type TokenInfo = z.output<typeof tokenInfoSchema>;

export const createdTokenSchema = z.strictObject({
  token: z.string().describe('The token itself: shown in this answer only.'),
  info: tokenInfoSchema,
});

export const settingsSchema = z.strictObject({
  concurrency: z.number().int(),
  perFlow: z.number().int(),
  payloadCap: z
    .number()
    .int()
    .describe('Largest stored payload of a failed record (characters of JSON); larger ones are cut and marked.'),
  retention: z.strictObject({
    days: z.number().describe('Keep the record outcomes of runs newer than this many days.'),
    runsPerFlow: z.number().int().describe("And of each flow's newest this many runs, however old."),
  }),
  secretKey: z
    .strictObject({
      id: z.string().describe('Its id, which every value sealed with it carries.'),
      createdAt: instant.describe('When it was made (by the first start, or by `sluice secrets rotate`).'),
    })
    .describe('The key stored secrets are sealed with now.'),
});
export type Settings = z.output<typeof settingsSchema>;

export const pruneResultSchema = z.strictObject({
  runs: z.number().int().describe('Runs whose record outcomes were removed.'),
  outcomes: z.number().int().describe('Record outcomes removed.'),
});

export const healthSchema = z.strictObject({ status: z.literal('ok'), activeRuns: z.number().int() });

/** One condition of readiness: met or not, and what was found. */
const readinessCheckSchema = z.strictObject({
  ready: z.boolean(),
  detail: z.string().describe('What was found, in words.'),
});

/** A ready process's answer to `/api/ready`: every check met. */
export const readinessSchema = z.strictObject({
  status: z.literal('ready'),
  checks: z.strictObject({
    database: readinessCheckSchema.describe('The database answers a query within 2 s.'),
    migrations: readinessCheckSchema.describe('Every migration of this build is applied.'),
    writer: readinessCheckSchema.describe('The run store’s writer is alive.'),
    scheduler: readinessCheckSchema.describe(
      'In a process that runs the schedules: the scheduler ticked within the last 5 s.',
    ),
  }),
});

/** A JSON document described elsewhere (a JSON Schema, the OpenAPI document itself). */
export const jsonDocumentSchema = z.record(z.string(), z.unknown());

// ---- operations ---------------------------------------------------------------------------------------

export const BREAKER_STATES = ['closed', 'open', 'half-open'] as const;

/** One schedule of a published, enabled flow, as the operations screen lists it. */
export const operationsScheduleSchema = z.strictObject({
  flowId: z.string(),
  flowName: z.string(),
  nodeId: z.string(),
  description: z.string().describe('The schedule in words ("At 02:30").'),
  cron: z.string(),
  timezone: z.string(),
  nextAt: instant.nullable().describe('Its next fire time; null when it has none (an invalid schedule).'),
  lastSlot: instant.nullable().describe('The last slot it fired.'),
  lastRun: z
    .strictObject({
      id: runId,
      status: z.enum(RUN_STATUSES),
      finishedAt: instant.nullable(),
      failed: z.number().int().describe('Records that failed in it.'),
    })
    .nullable()
    .describe('The run that slot made, as it is now; null before the first fire (or once that run was removed).'),
});
export type OperationsSchedule = z.output<typeof operationsScheduleSchema>;

/** One connection's health as this process sees it: breaker, limits, learnt pace, last check. */
export const operationsConnectionSchema = z.strictObject({
  name: z.string(),
  baseUrl: z.string(),
  builtIn: z.boolean(),
  breaker: z
    .strictObject({
      state: z.enum(BREAKER_STATES),
      failures: z.number().int().describe('Consecutive failures counted.'),
      openUntil: instant.nullable().describe('When an open breaker lets a probe through.'),
    })
    .nullable()
    .describe('Its circuit breaker in this process; null until a run here has sent it a request.'),
  limits: connectionViewSchema.shape.limits,
  pace: paceSchema.nullable().describe('The pace adaptive pacing has learnt in this process; null: none learnt.'),
  status: connectionStatusSchema.nullable().describe('Its last Test.'),
});
export type OperationsConnection = z.output<typeof operationsConnectionSchema>;

/** What the operations screen shows, gathered in one answer. */
export const operationsSchema = z.strictObject({
  at: instant.describe('When this was gathered.'),
  process: z.strictObject({
    owner: z.string().describe('This process as run executors name it (host/pid/id).'),
    executing: z.number().int().describe('Runs this process executes now.'),
    concurrency: z.number().int().describe('Runs it executes at once at most.'),
  }),
  runs: z
    .array(runSummarySchema)
    .describe('Unfinished runs (running, paused, queued) of every process, test runs left out; running first.'),
  schedules: z.array(operationsScheduleSchema),
  connections: z.array(operationsConnectionSchema),
  writer: z
    .strictObject({
      rows: z.number().int().describe('Record rows handed to the writer and not yet written.'),
      bytes: z.number().int(),
      groups: z.number().int().describe('Write groups sent and not yet written.'),
      oldestMs: z.number().int().nullable().describe('Age of the oldest group not yet written; null when none is.'),
    })
    .describe("This process's run store: how far its writing lags behind the runs."),
});
export type Operations = z.output<typeof operationsSchema>;
