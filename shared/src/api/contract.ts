/**
 * The HTTP API, one entry per route: method, path, what it takes (path, query, body) and what it answers
 * (one success status with its body's schema, and the errors it may answer, all with the error body).
 * The server registers its handlers against these entries (so a path, method or schema cannot drift
 * from what is documented), `/api/openapi.json` is made from them, and the typed client calls by name.
 */
import { z } from 'zod';
import { RECORD_STATUSES, RUN_STATUSES, TRIGGER_KINDS } from '../vocabulary.js';
import { alertDeliverySchema, alertRuleInputSchema, alertRuleViewSchema } from './alerts.js';
import { AUDIT_ACTOR_KINDS, AUDIT_OUTCOMES, auditEntrySchema } from './audit.js';
import {
  loginBodySchema,
  passwordChangeSchema,
  roleSchema,
  sessionInfoSchema,
  sessionViewSchema,
  setupBodySchema,
  userInputSchema,
  userPatchSchema,
  userViewSchema,
} from './auth.js';
import { type ErrorStatus, HTTP_STATUS, type SuccessStatus } from './http-status.js';
import {
  collectedRecordSchema,
  connectionInputSchema,
  connectionPatchSchema,
  connectionStatusSchema,
  connectionViewSchema,
  createdTokenSchema,
  errorGroupSchema,
  flowDeletedSchema,
  flowDetailSchema,
  flowEstimateSchema,
  flowSchedulesSchema,
  flowSummarySchema,
  flowVersionSummarySchema,
  healthSchema,
  hookViewSchema,
  jsonDocumentSchema,
  listOf,
  nodeTypeViewSchema,
  operationsSchema,
  pageOf,
  pruneResultSchema,
  readinessSchema,
  recordOutcomeSchema,
  retryAnswerSchema,
  runControlAnswerSchema,
  runDetailSchema,
  runQueuedSchema,
  runSummarySchema,
  schedulePreviewSchema,
  settingsSchema,
  templateSchema,
  testDataSchema,
  testStartedSchema,
  tokenInfoSchema,
  validationAnswerSchema,
  watermarkSchema,
} from './schemas.js';

/** `from` of the schedule previews: list the fire times after this instant (to check a future DST night). */
const previewFrom = z
  .string()
  .max(40)
  .refine((s) => !Number.isNaN(Date.parse(s)), 'must be an ISO 8601 date-time, e.g. 2027-03-27T00:00:00Z')
  .transform((s) => Date.parse(s))
  .optional()
  .describe('List the fire times after this instant (ISO 8601) instead of after now.');

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** The one success answer of a route: its status and, for JSON, its body's schema. */
export interface SuccessSpec {
  status: SuccessStatus;
  description: string;
  /** The JSON body; absent for 204 and for streams. */
  schema?: z.ZodType;
  /** Server-sent events rather than JSON. */
  stream?: true;
}

/** What a route takes and answers. */
export interface RouteContract {
  method: Method;
  /** The path with `{name}` for each path parameter, e.g. `/api/flows/{id}`. */
  path: string;
  tag: string;
  summary: string;
  description?: string;
  params?: z.ZodType;
  query?: z.ZodType;
  /** A JSON body, validated before the handler runs. */
  body?: z.ZodType;
  /** A JSON body the handler checks itself (a flow document, which may be saved with problems): documented only. */
  rawBody?: { contentType: string; schema?: Record<string, unknown>; description: string };
  success: SuccessSpec;
  /** The errors the route may answer, by status, each with the error body. */
  errors?: Partial<Record<ErrorStatus, string>>;
  /** False for the routes that need no token. */
  auth?: false;
}

/** Keeps an entry's literal types (so handlers and the client see its exact schemas). */
const route = <const R extends RouteContract>(r: R): R => r;

// ---- parameters --------------------------------------------------------------------------------------

/** A page size: a number in the query string, `fallback` when absent. */
export const limitParam = (fallback: number, max: number) =>
  // <number>: callers pass a number (the query string carries it as text, coerced here)
  z.coerce.number<number>().int().min(1).max(max).default(fallback);

/** A cursor as this API returns it (`nextCursor`): decimal digits. */
export const cursorParam = z
  .string()
  .regex(/^-?\d{1,16}$/, 'not a cursor this API returned')
  .transform(Number)
  .optional();

/** Text that names something in a path (an id, a name, a record key): never holds a NUL character. */
const pathText = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .refine((v) => !v.includes('\u0000'), 'contains a NUL character, which no id, name or key holds');
/** The largest version number a flow can have (versions are stored as 32-bit integers). */
const VERSION_MAX = 2_147_483_647;

const flowIdParams = z.object({ id: pathText(100) });
const runIdParams = z.object({ id: z.string().regex(/^[1-9]\d{0,15}$/, 'not a run id') });
const connectionParams = z.object({ name: pathText(63) });

const instantQuery = z
  .string()
  .refine((s) => !Number.isNaN(Date.parse(s)), 'must be an ISO 8601 date-time, e.g. 2026-11-28T00:00:00Z')
  .transform((s) => Date.parse(s))
  .optional();

const flowDocument = {
  contentType: 'application/json',
  schema: { $ref: '/api/flow.schema.json' },
  description: 'A flow document (format 1). A document with problems is saved as a draft and its problems returned.',
};

const runBody = z
  .strictObject({
    version: z
      .union([z.enum(['latest', 'published']), z.number().int().min(1).max(VERSION_MAX)])
      .optional()
      .describe('Which version to run: latest (default), published, or a version number.'),
    records: z
      .array(z.record(z.string(), z.unknown()))
      .max(100_000)
      .optional()
      .describe('Records to start the run with, for flows whose trigger is a webhook.'),
    trigger: z
      .enum(['api', 'manual'])
      .optional()
      .describe('Who starts it: `manual` for a person in the editor, `api` (default) for a program.'),
  })
  .optional();

const retryBody = z
  .strictObject({
    version: z
      .enum(['original', 'current'])
      .default('original')
      .describe('Run the version the failed run ran (original) or the latest saved version (current).'),
    records: z
      .array(
        z.strictObject({
          seq: z.number().int().min(0).describe('A failed record of the run, by its position in read order.'),
          payload: z
            .record(z.string(), z.unknown())
            .optional()
            .describe('The payload to send instead of the stored one (an edited record).'),
        }),
      )
      .min(1)
      .max(10_000)
      .optional()
      .describe('Retry only these failed records (default: every failed record).'),
  })
  .optional();

const testBody = z.strictObject({
  limit: z.number().int().min(1).max(1000).default(20).describe('Records each source reads at most.'),
  sendWrites: z
    .boolean()
    .default(false)
    .describe(
      'Send HTTP writes, entity writes and file sinks for real; by default each shows the request it would make.',
    ),
  until: z.string().min(1).max(100).optional().describe('Test to here: only this node and the nodes that feed it run.'),
});

const {
  OK,
  CREATED,
  ACCEPTED,
  NO_CONTENT,
  BAD_REQUEST,
  UNAUTHORIZED,
  FORBIDDEN,
  NOT_FOUND,
  CONFLICT,
  UNPROCESSABLE,
  UNSUPPORTED_MEDIA_TYPE,
  TOO_MANY_REQUESTS,
  SERVICE_UNAVAILABLE,
} = HTTP_STATUS;

const runControl = <const V extends 'pause' | 'resume' | 'cancel'>(verb: V, summary: string) =>
  route({
    method: 'post',
    path: `/api/runs/{id}/${verb}`,
    tag: 'runs',
    summary,
    params: runIdParams,
    success: { status: ACCEPTED, description: 'Accepted: what the run does next', schema: runControlAnswerSchema },
    errors: { [NOT_FOUND]: 'No such run', [CONFLICT]: 'Not possible in the run’s state' },
  });

// ---- routes ------------------------------------------------------------------------------------------

/** Every route of the API, by name. The order is the order of the OpenAPI document. */
export const apiContract = {
  health: route({
    method: 'get',
    path: '/api/health',
    tag: 'server',
    summary: 'Liveness; needs no token',
    auth: false,
    success: { status: OK, description: 'The server is up', schema: healthSchema },
  }),
  ready: route({
    method: 'get',
    path: '/api/ready',
    tag: 'server',
    summary: 'Readiness; needs no token',
    description:
      'Ready when the database answers, its migrations are applied, the run store’s writer is alive and, in a process that runs the schedules, the scheduler ticked within the last 5 s. Otherwise 503, with a message naming each check that failed (`path`: the first).',
    auth: false,
    success: { status: OK, description: 'Ready: every check met', schema: readinessSchema },
    errors: { [SERVICE_UNAVAILABLE]: 'Not ready: the message names what is not' },
  }),

  // signing in, sessions, users
  login: route({
    method: 'post',
    path: '/api/auth/login',
    tag: 'auth',
    summary: 'Sign in with e-mail and password: sets the session cookie',
    description:
      'Answers the session, with the CSRF token to send as X-CSRF-Token on state-changing requests. Repeated failures for an account or from an address are answered 429 with Retry-After.',
    auth: false,
    body: loginBodySchema,
    success: { status: OK, description: 'Signed in', schema: sessionViewSchema },
    errors: {
      [BAD_REQUEST]: 'A bad field, named',
      [UNAUTHORIZED]: 'Wrong e-mail or password',
      [UNSUPPORTED_MEDIA_TYPE]: 'Not sent as application/json',
      [TOO_MANY_REQUESTS]: 'Too many failed attempts: try again after Retry-After seconds',
    },
  }),
  setup: route({
    method: 'post',
    path: '/api/auth/setup',
    tag: 'auth',
    summary: 'Make the first admin with the one-time setup token printed on the first start; signs in',
    auth: false,
    body: setupBodySchema,
    success: { status: CREATED, description: 'The admin, signed in', schema: sessionViewSchema },
    errors: {
      [BAD_REQUEST]: 'A bad field, named',
      [FORBIDDEN]: 'Not the setup token, or a user exists already',
      [UNSUPPORTED_MEDIA_TYPE]: 'Not sent as application/json',
    },
  }),
  getSession: route({
    method: 'get',
    path: '/api/session',
    tag: 'auth',
    summary: 'Who the request acts for: user or token, role, permissions and the session’s CSRF token',
    success: { status: OK, description: 'The session', schema: sessionViewSchema },
  }),
  logout: route({
    method: 'post',
    path: '/api/auth/logout',
    tag: 'auth',
    summary: 'Sign out: ends this session and clears its cookie',
    success: { status: NO_CONTENT, description: 'Signed out' },
  }),
  changePassword: route({
    method: 'post',
    path: '/api/session/password',
    tag: 'auth',
    summary: 'Change the signed-in user’s password; signs out every other session',
    body: passwordChangeSchema,
    success: { status: NO_CONTENT, description: 'Changed' },
    errors: {
      [BAD_REQUEST]: 'A bad field, or the current password is wrong',
      [CONFLICT]: 'A service token has no password',
    },
  }),
  listSessions: route({
    method: 'get',
    path: '/api/sessions',
    tag: 'auth',
    summary: 'The signed-in user’s sessions, newest first',
    success: { status: OK, description: 'Sessions', schema: listOf(sessionInfoSchema) },
  }),
  revokeSession: route({
    method: 'delete',
    path: '/api/sessions/{id}',
    tag: 'auth',
    summary: 'Sign out one of the user’s sessions',
    params: z.object({ id: pathText(100) }),
    success: { status: NO_CONTENT, description: 'Signed out' },
    errors: { [NOT_FOUND]: 'No such session of this user' },
  }),
  listUsers: route({
    method: 'get',
    path: '/api/users',
    tag: 'users',
    summary: 'Users, by e-mail',
    success: { status: OK, description: 'Users', schema: listOf(userViewSchema) },
  }),
  createUser: route({
    method: 'post',
    path: '/api/users',
    tag: 'users',
    summary: 'Add a user with a role and a first password',
    body: userInputSchema,
    success: { status: CREATED, description: 'The user', schema: userViewSchema },
    errors: { [BAD_REQUEST]: 'A bad field, named', [CONFLICT]: 'The e-mail is taken' },
  }),
  updateUser: route({
    method: 'patch',
    path: '/api/users/{id}',
    tag: 'users',
    summary: 'Change a user’s name, role, password or whether it is active',
    description: 'Deactivating a user or setting its password signs out its sessions.',
    params: z.object({ id: pathText(100) }),
    body: userPatchSchema,
    success: { status: OK, description: 'The user', schema: userViewSchema },
    errors: {
      [BAD_REQUEST]: 'A bad field, named',
      [NOT_FOUND]: 'No such user',
      [CONFLICT]: 'It would leave no active admin',
    },
  }),
  deleteUser: route({
    method: 'delete',
    path: '/api/users/{id}',
    tag: 'users',
    summary: 'Remove a user with its sessions and tokens',
    params: z.object({ id: pathText(100) }),
    success: { status: NO_CONTENT, description: 'Removed' },
    errors: { [NOT_FOUND]: 'No such user', [CONFLICT]: 'It would leave no active admin' },
  }),

  // catalogue, connections, tokens, settings
  listNodeTypes: route({
    method: 'get',
    path: '/api/node-types',
    tag: 'catalogue',
    summary: 'Every node type with its parameter schema',
    success: { status: OK, description: 'The node types', schema: listOf(nodeTypeViewSchema) },
  }),
  listTemplates: route({
    method: 'get',
    path: '/api/templates',
    tag: 'catalogue',
    summary: 'Example flows to start from (the files in examples/)',
    success: { status: OK, description: 'The examples', schema: listOf(templateSchema) },
  }),
  listConnections: route({
    method: 'get',
    path: '/api/connections',
    tag: 'connections',
    summary: 'Connections, secrets masked',
    success: {
      status: OK,
      description: 'Built-in connections first, then the stored ones by name',
      schema: listOf(connectionViewSchema),
    },
  }),
  createConnection: route({
    method: 'post',
    path: '/api/connections',
    tag: 'connections',
    summary: 'Create a connection; its secret is encrypted at rest and never returned',
    body: connectionInputSchema,
    success: { status: CREATED, description: 'The connection, secret masked', schema: connectionViewSchema },
    errors: { [BAD_REQUEST]: 'A bad field, named', [CONFLICT]: 'The name is taken' },
  }),
  getConnection: route({
    method: 'get',
    path: '/api/connections/{name}',
    tag: 'connections',
    summary: 'One connection, secret masked',
    params: connectionParams,
    success: { status: OK, description: 'The connection', schema: connectionViewSchema },
    errors: { [NOT_FOUND]: 'No such connection' },
  }),
  updateConnection: route({
    method: 'patch',
    path: '/api/connections/{name}',
    tag: 'connections',
    summary: 'Change a connection (secret: null removes the secret; leave it out to keep it)',
    params: connectionParams,
    body: connectionPatchSchema,
    success: { status: OK, description: 'The connection', schema: connectionViewSchema },
    errors: { [BAD_REQUEST]: 'A bad field, named', [NOT_FOUND]: 'No such connection', [CONFLICT]: 'Built in' },
  }),
  deleteConnection: route({
    method: 'delete',
    path: '/api/connections/{name}',
    tag: 'connections',
    summary: 'Delete a connection',
    params: connectionParams,
    success: { status: NO_CONTENT, description: 'Deleted' },
    errors: { [NOT_FOUND]: 'No such connection', [CONFLICT]: 'Built in' },
  }),
  checkConnection: route({
    method: 'post',
    path: '/api/connections/{name}/check',
    tag: 'connections',
    summary: 'Call the system with the connection’s credentials and store the status',
    params: connectionParams,
    success: {
      status: OK,
      description: 'How the system answered (null only if the status could not be stored)',
      schema: connectionStatusSchema.nullable(),
    },
    errors: { [NOT_FOUND]: 'No such connection' },
  }),
  listTokens: route({
    method: 'get',
    path: '/api/tokens',
    tag: 'auth',
    summary: 'API tokens (names and prefixes only)',
    success: { status: OK, description: 'The tokens', schema: listOf(tokenInfoSchema) },
  }),
  createToken: route({
    method: 'post',
    path: '/api/tokens',
    tag: 'auth',
    summary: 'Create an API token; the token is in this answer only',
    description:
      'The token belongs to the caller (or, for an admin, to `userId`) and acts with at most that user’s role; an admin may instead make a service token (`service: true`) with any role.',
    body: z.strictObject({
      name: z.string().trim().min(1).max(100),
      role: roleSchema.optional().describe('The role it acts with; the owner’s role when left out.'),
      userId: z.string().min(1).max(100).optional().describe('Admins: the user it belongs to.'),
      service: z.boolean().optional().describe('Admins: a service token, of no user.'),
      expiresInDays: z.number().int().min(1).max(3650).optional().describe('Stops working after this many days.'),
    }),
    success: { status: CREATED, description: 'The token and its description', schema: createdTokenSchema },
    errors: {
      [BAD_REQUEST]: 'No name, or a role above the owner’s',
      [FORBIDDEN]: 'Not an admin, for another user’s or a service token',
      [NOT_FOUND]: 'No such user',
    },
  }),
  revokeToken: route({
    method: 'delete',
    path: '/api/tokens/{id}',
    tag: 'auth',
    summary: 'Revoke an API token',
    params: z.object({ id: z.coerce.number<number>().int().min(1) }),
    success: { status: NO_CONTENT, description: 'Revoked' },
    errors: { [NOT_FOUND]: 'No such token' },
  }),
  getSettings: route({
    method: 'get',
    path: '/api/settings',
    tag: 'settings',
    summary: 'The server’s limits and retention (read-only)',
    success: { status: OK, description: 'Settings', schema: settingsSchema },
  }),
  getOperations: route({
    method: 'get',
    path: '/api/operations',
    tag: 'settings',
    summary:
      'What runs and waits now: unfinished runs by process, schedules, connections (breakers, limits, pace), writer lag',
    success: { status: OK, description: 'The operations view', schema: operationsSchema },
  }),
  prune: route({
    method: 'post',
    path: '/api/maintenance/prune',
    tag: 'settings',
    summary: 'Apply the retention policy now',
    success: { status: OK, description: 'What was removed', schema: pruneResultSchema },
  }),

  // flows
  listFlows: route({
    method: 'get',
    path: '/api/flows',
    tag: 'flows',
    summary: 'List flows, most recently changed first',
    description: 'A page like every list of the API; today every flow is on the first page (nextCursor is null).',
    query: z.object({
      archived: z
        .enum(['true', 'false'])
        .default('false')
        .transform((v) => v === 'true')
        .describe('true: list the archived flows (deleted while they had runs) instead.'),
    }),
    success: { status: OK, description: 'Flows, most recently changed first', schema: pageOf(flowSummarySchema) },
  }),
  createFlow: route({
    method: 'post',
    path: '/api/flows',
    tag: 'flows',
    summary: 'Create a flow (version 1)',
    rawBody: flowDocument,
    success: { status: CREATED, description: 'The flow', schema: flowDetailSchema },
    errors: { [BAD_REQUEST]: 'Not JSON', [UNPROCESSABLE]: 'Not a flow document' },
  }),
  validateFlow: route({
    method: 'post',
    path: '/api/flows/validate',
    tag: 'flows',
    summary: 'Check a flow document without saving it',
    rawBody: flowDocument,
    success: { status: OK, description: 'Whether it can run, and its problems', schema: validationAnswerSchema },
    errors: { [BAD_REQUEST]: 'Not JSON', [UNPROCESSABLE]: 'Not a flow document' },
  }),
  getFlow: route({
    method: 'get',
    path: '/api/flows/{id}',
    tag: 'flows',
    summary: 'A flow with the document of its latest version (or of ?version=)',
    params: flowIdParams,
    query: z.object({ version: z.coerce.number<number>().int().min(1).max(VERSION_MAX).optional() }),
    success: { status: OK, description: 'The flow', schema: flowDetailSchema },
    errors: { [NOT_FOUND]: 'No such flow or version' },
  }),
  saveFlow: route({
    method: 'put',
    path: '/api/flows/{id}',
    tag: 'flows',
    summary: 'Save a new version',
    params: flowIdParams,
    rawBody: flowDocument,
    success: { status: OK, description: 'The flow at its new version', schema: flowDetailSchema },
    errors: { [BAD_REQUEST]: 'Not JSON', [NOT_FOUND]: 'No such flow', [UNPROCESSABLE]: 'Not a flow document' },
  }),
  deleteFlow: route({
    method: 'delete',
    path: '/api/flows/{id}',
    tag: 'flows',
    summary: 'Delete a flow; one that has runs is archived instead (its history kept, restorable)',
    params: flowIdParams,
    success: { status: OK, description: 'Whether it was archived or deleted', schema: flowDeletedSchema },
    errors: { [NOT_FOUND]: 'No such flow', [CONFLICT]: 'A run of it has not finished' },
  }),
  restoreFlow: route({
    method: 'post',
    path: '/api/flows/{id}/restore',
    tag: 'flows',
    summary: 'Bring an archived flow back to the list (its schedules and webhooks stay off)',
    params: flowIdParams,
    success: { status: OK, description: 'The flow', schema: flowSummarySchema },
    errors: { [NOT_FOUND]: 'No such flow', [CONFLICT]: 'Not archived' },
  }),
  duplicateFlow: route({
    method: 'post',
    path: '/api/flows/{id}/duplicate',
    tag: 'flows',
    summary: 'A new flow with the latest document of this one, named “… (copy)”',
    params: flowIdParams,
    success: { status: CREATED, description: 'The new flow', schema: flowDetailSchema },
    errors: { [NOT_FOUND]: 'No such flow' },
  }),
  listVersions: route({
    method: 'get',
    path: '/api/flows/{id}/versions',
    tag: 'flows',
    summary: 'The versions of a flow, newest first',
    params: flowIdParams,
    success: { status: OK, description: 'Versions', schema: listOf(flowVersionSummarySchema) },
    errors: { [NOT_FOUND]: 'No such flow' },
  }),
  publishFlow: route({
    method: 'post',
    path: '/api/flows/{id}/publish',
    tag: 'flows',
    summary: 'Publish a version: the one schedules and webhooks run',
    params: flowIdParams,
    body: z.strictObject({ version: z.number().int().min(1).max(VERSION_MAX).optional() }).optional(),
    success: { status: OK, description: 'The flow at the published version', schema: flowDetailSchema },
    errors: { [NOT_FOUND]: 'No such flow or version', [UNPROCESSABLE]: 'The version has errors' },
  }),
  setFlowEnabled: route({
    method: 'put',
    path: '/api/flows/{id}/enabled',
    tag: 'flows',
    summary: 'Turn the flow’s schedules and webhooks on or off',
    params: flowIdParams,
    body: z.strictObject({ enabled: z.boolean() }),
    success: { status: OK, description: 'The flow', schema: flowSummarySchema },
    errors: { [NOT_FOUND]: 'No such flow' },
  }),
  startRun: route({
    method: 'post',
    path: '/api/flows/{id}/runs',
    tag: 'runs',
    summary: 'Start a run; answers at once with its id (it waits queued for a free slot)',
    params: flowIdParams,
    body: runBody,
    success: { status: ACCEPTED, description: 'The run, queued', schema: runQueuedSchema },
    errors: {
      [NOT_FOUND]: 'No such flow',
      [CONFLICT]: 'No published version, or the flow is archived',
      [UNPROCESSABLE]: 'The version has errors',
    },
  }),
  flowEstimate: route({
    method: 'get',
    path: '/api/flows/{id}/estimate',
    tag: 'runs',
    summary: 'How long a run should take: records, batches, waits of delays and rates, measured time per record',
    description:
      'The record count comes from `records` if given, else from the sources (a generate count, inline records, a file’s lines), else from the last succeeded run. The time per record is measured in the flow’s recent succeeded runs, their delay waits taken out.',
    params: flowIdParams,
    query: z.object({
      version: z.coerce
        .number<number>()
        .int()
        .min(1)
        .max(VERSION_MAX)
        .optional()
        .describe('Estimate this version (default: latest).'),
      records: z.coerce
        .number<number>()
        .int()
        .min(0)
        .max(1_000_000_000)
        .optional()
        .describe('Estimate for this many records.'),
    }),
    success: { status: OK, description: 'The estimate and its breakdown', schema: flowEstimateSchema },
    errors: { [NOT_FOUND]: 'No such flow or version' },
  }),
  testFlow: route({
    method: 'post',
    path: '/api/flows/{id}/test',
    tag: 'runs',
    summary: 'Test a flow on its first records, writes not sent; the draft document given, else the latest version',
    params: flowIdParams,
    body: testBody.extend({
      document: z
        .record(z.string(), z.unknown())
        .optional()
        .describe('The flow document to test (the unsaved draft); the latest saved version when absent.'),
    }),
    success: { status: ACCEPTED, description: 'The test run, started', schema: testStartedSchema },
    errors: { [NOT_FOUND]: 'No such flow', [UNPROCESSABLE]: 'The document has errors' },
  }),
  testDraft: route({
    method: 'post',
    path: '/api/test',
    tag: 'runs',
    summary: 'Test a flow document that was never saved, on its first records, writes not sent',
    body: testBody.extend({
      document: z.record(z.string(), z.unknown()).describe('The flow document to test.'),
    }),
    success: { status: ACCEPTED, description: 'The test run, started', schema: testStartedSchema },
    errors: { [UNPROCESSABLE]: 'The document has errors' },
  }),
  flowSchedules: route({
    method: 'get',
    path: '/api/flows/{id}/schedule',
    tag: 'schedules',
    summary: 'The flow’s schedules: meaning, next five fire times, policies, last fire',
    params: flowIdParams,
    query: z.object({ from: previewFrom }),
    success: { status: OK, description: 'Schedules', schema: flowSchedulesSchema },
    errors: { [NOT_FOUND]: 'No such flow' },
  }),
  previewSchedule: route({
    method: 'get',
    path: '/api/schedules/preview',
    tag: 'schedules',
    summary: 'What a cron expression means and when it fires next',
    query: z.object({
      cron: z.string().min(1).max(200),
      timezone: z.string().min(1).max(100).default('UTC'),
      from: previewFrom,
    }),
    success: { status: OK, description: 'Its meaning and next fire times', schema: schedulePreviewSchema },
    errors: { [BAD_REQUEST]: 'Not a valid cron or time zone' },
  }),
  listHooks: route({
    method: 'get',
    path: '/api/flows/{id}/hooks',
    tag: 'webhooks',
    summary: 'The hook address and secret of each webhook trigger',
    params: flowIdParams,
    success: { status: OK, description: 'Hooks', schema: listOf(hookViewSchema) },
    errors: { [NOT_FOUND]: 'No such flow' },
  }),
  rotateHook: route({
    method: 'post',
    path: '/api/flows/{id}/hooks/{nodeId}/rotate',
    tag: 'webhooks',
    summary: 'Replace a hook’s secret',
    params: z.object({ id: pathText(100), nodeId: pathText(100) }),
    success: { status: OK, description: 'The hook with its new secret', schema: hookViewSchema },
    errors: { [NOT_FOUND]: 'No such flow or webhook node' },
  }),
  listWatermarks: route({
    method: 'get',
    path: '/api/flows/{id}/watermarks',
    tag: 'flows',
    summary: 'Incremental sync: the watermark of each incremental source, as its last successful run left it',
    params: flowIdParams,
    success: { status: OK, description: 'Watermarks by node', schema: listOf(watermarkSchema) },
    errors: { [NOT_FOUND]: 'No such flow' },
  }),
  recordHistory: route({
    method: 'get',
    path: '/api/flows/{id}/records/{key}',
    tag: 'history',
    summary: 'One record key’s history across the flow’s runs, newest run first',
    params: z.object({ id: pathText(100), key: pathText(1000) }),
    query: z.object({ limit: limitParam(100, 1000) }),
    success: {
      status: OK,
      description: 'Outcomes: status, node, attempts, error, payload, time',
      schema: listOf(recordOutcomeSchema),
    },
    errors: { [NOT_FOUND]: 'No such flow' },
  }),

  // runs
  listRuns: route({
    method: 'get',
    path: '/api/runs',
    tag: 'runs',
    summary: 'List runs, newest first, filtered and cursor-paged',
    query: z.object({
      flowId: z.string().min(1).max(100).optional(),
      status: z.enum(RUN_STATUSES).optional(),
      trigger: z.enum(TRIGGER_KINDS).optional(),
      from: instantQuery.describe('Created at or after (ISO 8601).'),
      to: instantQuery.describe('Created before (ISO 8601).'),
      limit: limitParam(50, 500),
      cursor: cursorParam,
    }),
    success: { status: OK, description: 'A page of runs', schema: pageOf(runSummarySchema) },
    errors: { [BAD_REQUEST]: 'A bad filter, named' },
  }),
  getRun: route({
    method: 'get',
    path: '/api/runs/{id}',
    tag: 'runs',
    summary: 'A run: status, counts per node, batches with timings',
    params: runIdParams,
    success: { status: OK, description: 'The run', schema: runDetailSchema },
    errors: { [NOT_FOUND]: 'No such run' },
  }),
  testData: route({
    method: 'get',
    path: '/api/runs/{id}/test-data',
    tag: 'runs',
    summary: 'What each node of a test run received, emitted and failed (kept for the latest test runs)',
    params: runIdParams,
    query: z.object({
      waitMs: z.coerce
        .number<number>()
        .int()
        .min(0)
        .max(30_000)
        .default(0)
        .describe('Wait up to this long for the test to finish before answering.'),
    }),
    success: { status: OK, description: 'Per-node data', schema: testDataSchema },
    errors: { [NOT_FOUND]: 'No such test run, or its data is no longer kept' },
  }),
  pauseRun: runControl('pause', 'Pause a running run (requests in flight finish)'),
  resumeRun: runControl('resume', 'Resume a paused run'),
  cancelRun: runControl('cancel', 'Cancel a queued, running or paused run'),
  retryRun: route({
    method: 'post',
    path: '/api/runs/{id}/retry',
    tag: 'runs',
    summary: 'Start a run that retries the failed records of a finished run',
    params: runIdParams,
    body: retryBody,
    success: { status: ACCEPTED, description: 'The retry run, queued', schema: retryAnswerSchema },
    errors: {
      [BAD_REQUEST]: 'A selected record is not a failed record of the run, or named twice',
      [NOT_FOUND]: 'No such run',
      [CONFLICT]: 'Not finished, or nothing failed',
      [UNPROCESSABLE]: 'That version has errors',
    },
  }),
  listRecords: route({
    method: 'get',
    path: '/api/runs/{id}/records',
    tag: 'history',
    summary: 'A run’s record outcomes in read order, filtered by status and node, searchable by key',
    params: runIdParams,
    query: z.object({
      status: z.enum(RECORD_STATUSES).optional(),
      node: z.string().min(1).max(100).optional(),
      key: z.string().min(1).max(1000).optional().describe('Exact record key.'),
      limit: limitParam(50, 1000),
      cursor: cursorParam,
    }),
    success: { status: OK, description: 'A page of outcomes', schema: pageOf(recordOutcomeSchema) },
    errors: { [NOT_FOUND]: 'No such run' },
  }),
  errorGroups: route({
    method: 'get',
    path: '/api/runs/{id}/errors',
    tag: 'history',
    summary: 'A run’s failed records grouped by error message and node, with counts and sample keys',
    params: runIdParams,
    query: z.object({ limit: limitParam(50, 500) }),
    success: { status: OK, description: 'Groups, most frequent first', schema: listOf(errorGroupSchema) },
    errors: { [NOT_FOUND]: 'No such run' },
  }),
  listCollected: route({
    method: 'get',
    path: '/api/runs/{id}/collected',
    tag: 'history',
    summary: 'Records kept by the run’s collect nodes',
    params: runIdParams,
    query: z.object({ node: z.string().min(1).max(100).optional(), limit: limitParam(50, 1000), cursor: cursorParam }),
    success: { status: OK, description: 'A page of collected records', schema: pageOf(collectedRecordSchema) },
    errors: { [NOT_FOUND]: 'No such run' },
  }),

  // alerts
  listAlertRules: route({
    method: 'get',
    path: '/api/flows/{id}/alerts',
    tag: 'alerts',
    summary: 'The flow’s alert rules (secrets never returned)',
    params: flowIdParams,
    success: { status: OK, description: 'Rules', schema: listOf(alertRuleViewSchema) },
    errors: { [NOT_FOUND]: 'No such flow' },
  }),
  createAlertRule: route({
    method: 'post',
    path: '/api/flows/{id}/alerts',
    tag: 'alerts',
    summary: 'Add an alert rule: when (condition) and where (channel); its secret is encrypted at rest',
    params: flowIdParams,
    body: alertRuleInputSchema,
    success: { status: CREATED, description: 'The rule', schema: alertRuleViewSchema },
    errors: { [BAD_REQUEST]: 'A bad field, named', [NOT_FOUND]: 'No such flow' },
  }),
  updateAlertRule: route({
    method: 'put',
    path: '/api/flows/{id}/alerts/{ruleId}',
    tag: 'alerts',
    summary: 'Replace an alert rule (a channel of the same type given without its secret keeps the stored one)',
    params: z.object({ id: pathText(100), ruleId: pathText(100) }),
    body: alertRuleInputSchema,
    success: { status: OK, description: 'The rule', schema: alertRuleViewSchema },
    errors: { [BAD_REQUEST]: 'A bad field, named', [NOT_FOUND]: 'No such flow or rule' },
  }),
  deleteAlertRule: route({
    method: 'delete',
    path: '/api/flows/{id}/alerts/{ruleId}',
    tag: 'alerts',
    summary: 'Remove an alert rule (its deliveries are kept; pending ones are not sent)',
    params: z.object({ id: pathText(100), ruleId: pathText(100) }),
    success: { status: NO_CONTENT, description: 'Removed' },
    errors: { [NOT_FOUND]: 'No such flow or rule' },
  }),
  testAlertRule: route({
    method: 'post',
    path: '/api/flows/{id}/alerts/{ruleId}/test',
    tag: 'alerts',
    summary:
      'Send a test alert through the rule’s channel now (enabled or not), one attempt: answers with its delivery, delivered or failed with the reason',
    params: z.object({ id: pathText(100), ruleId: pathText(100) }),
    success: { status: OK, description: 'The test’s delivery', schema: alertDeliverySchema },
    errors: { [NOT_FOUND]: 'No such flow or rule' },
  }),
  listAlertDeliveries: route({
    method: 'get',
    path: '/api/alert-deliveries',
    tag: 'alerts',
    summary: 'Recent alert deliveries, newest first: status, attempts, last error',
    query: z.object({
      limit: limitParam(50, 500),
      flowId: z.string().min(1).max(100).optional().describe('Only this flow’s deliveries.'),
    }),
    success: { status: OK, description: 'Deliveries', schema: listOf(alertDeliverySchema) },
    errors: { [BAD_REQUEST]: 'A bad filter, named' },
  }),

  // audit log
  listAudit: route({
    method: 'get',
    path: '/api/audit',
    tag: 'audit',
    summary: 'The audit log, newest first: who changed what, when and from where; filtered and cursor-paged',
    query: z.object({
      actorKind: z.enum(AUDIT_ACTOR_KINDS).optional(),
      actorId: z.string().min(1).max(100).optional().describe('A token’s id (env for SLUICE_API_TOKEN), or a user’s.'),
      action: z.string().min(1).max(100).optional().describe('Exact action, e.g. flow.saved.'),
      objectType: z.string().min(1).max(50).optional(),
      objectId: z.string().min(1).max(1000).optional(),
      outcome: z.enum(AUDIT_OUTCOMES).optional(),
      from: instantQuery.describe('At or after (ISO 8601).'),
      to: instantQuery.describe('Before (ISO 8601).'),
      limit: limitParam(50, 500),
      cursor: cursorParam,
    }),
    success: { status: OK, description: 'A page of entries', schema: pageOf(auditEntrySchema) },
    errors: { [BAD_REQUEST]: 'A bad filter, named' },
  }),

  // live events
  events: route({
    method: 'get',
    path: '/api/events',
    tag: 'events',
    summary: 'Live events of every run (server-sent events; token also accepted as ?access_token=)',
    success: { status: OK, stream: true, description: 'An event stream of `update` messages: { events: [...] }' },
  }),
  runEvents: route({
    method: 'get',
    path: '/api/runs/{id}/events',
    tag: 'events',
    summary: 'Live events of one run: a `snapshot` first, then `update` messages until it finishes',
    params: runIdParams,
    success: { status: OK, stream: true, description: 'An event stream' },
    errors: { [NOT_FOUND]: 'No such run' },
  }),

  // descriptions of the API itself
  flowJsonSchema: route({
    method: 'get',
    path: '/api/flow.schema.json',
    tag: 'catalogue',
    summary: 'JSON Schema of flow documents',
    success: { status: OK, description: 'JSON Schema', schema: jsonDocumentSchema },
  }),
  openApi: route({
    method: 'get',
    path: '/api/openapi.json',
    tag: 'server',
    summary: 'This API as OpenAPI 3.1',
    success: { status: OK, description: 'The OpenAPI document', schema: jsonDocumentSchema },
  }),
} as const satisfies Record<string, RouteContract>;

export type ApiContract = typeof apiContract;
export type RouteName = keyof ApiContract;

// ---- types of a route's inputs and answers -----------------------------------------------------------

/** The success body of a route as the client receives it (undefined for 204; never for streams). */
export type AnswerOf<R extends RouteContract> = R['success'] extends { stream: true }
  ? never
  : R['success'] extends { schema: infer S extends z.ZodType }
    ? z.output<S>
    : undefined;

/** The success body a handler must produce (what the schema accepts). */
export type ReplyOf<R extends RouteContract> = R['success'] extends { schema: infer S extends z.ZodType }
  ? z.input<S>
  : undefined;

/** What a caller passes for a route: path parameters, query, body (each only where the route has one). */
export type CallInput<R extends RouteContract> = (R extends { params: infer P extends z.ZodType }
  ? { params: z.input<P> }
  : { params?: undefined }) &
  (R extends { query: infer Q extends z.ZodType }
    ? object extends z.input<Q>
      ? { query?: z.input<Q> }
      : { query: z.input<Q> }
    : { query?: undefined }) &
  (R extends { body: infer B extends z.ZodType }
    ? undefined extends z.input<B>
      ? { body?: z.input<B> }
      : { body: z.input<B> }
    : R extends { rawBody: object }
      ? // a flow document: an object, or JSON text sent as it is
        { body: unknown }
      : { body?: undefined });

/** The validated inputs a handler receives. */
export interface HandlerInput<R extends RouteContract> {
  params: R extends { params: infer P extends z.ZodType } ? z.output<P> : Record<string, never>;
  query: R extends { query: infer Q extends z.ZodType } ? z.output<Q> : Record<string, never>;
  /** The validated body; for a route with a raw body, the parsed JSON, unchecked. */
  body: R extends { body: infer B extends z.ZodType }
    ? z.output<B>
    : R extends { rawBody: object }
      ? unknown
      : undefined;
}
