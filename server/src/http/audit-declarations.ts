/**
 * What the audit log records for each route that changes something: every POST, PUT, PATCH and
 * DELETE route of the contract has its entry here (the map is typed over them, so a new one does not
 * compile until it is declared), and `http/audit.ts` records one entry per authenticated request to
 * it, done or refused. A route that changes nothing (validating a document) says so, with why.
 *
 * Summaries are written here by hand from the validated request and the answer, and say what
 * changed without the values that are secret: a connection's summary names the fields that were
 * given, never their values.
 */
import type { ApiContract, HandlerInput, ReplyOf, RouteName } from '@sluice/shared';

/** The routes that change something: every one that is not a GET. */
export type MutatingRouteName = {
  [N in RouteName]: ApiContract[N]['method'] extends 'get' ? never : N;
}[RouteName];

/** A request to route N that was handled: its validated inputs and its answer. */
export interface AuditedCall<N extends MutatingRouteName> {
  params: HandlerInput<ApiContract[N]>['params'];
  body: HandlerInput<ApiContract[N]>['body'];
  answer: ReplyOf<ApiContract[N]>;
}

export interface AuditDeclaration<N extends MutatingRouteName> {
  /** What was done, `<object type>.<past participle>`; refused attempts are recorded under it too. */
  action: string;
  /** A more exact action once the answer is known (a deleted flow that was archived instead). */
  actionOf?: (call: AuditedCall<N>) => string;
  objectType: string;
  /** The path parameter that names the object (read for refused requests too). */
  param?: keyof HandlerInput<ApiContract[N]>['params'] & string;
  /** The object's id when the route makes it (read from the answer). */
  created?: (call: AuditedCall<N>) => string;
  /** What changed, in short; never a secret. */
  summary?: (call: AuditedCall<N>) => Record<string, unknown>;
  /**
   * The route signs someone in (it needs no credential): its actor is the user it signed in, or for
   * a refused attempt the account the request named.
   */
  signsIn?: true;
}

/** A route that changes nothing although it is not a GET: recorded never, with the reason. */
export interface NotAudited {
  notAudited: string;
}

type Declarations = { [N in MutatingRouteName]: AuditDeclaration<N> | NotAudited };

const runControl = (action: string): AuditDeclaration<'pauseRun' | 'resumeRun' | 'cancelRun'> => ({
  action,
  objectType: 'run',
  param: 'id',
  summary: ({ answer }) => ({ status: answer.status }),
});

const alertSummary = ({ params, answer }: AuditedCall<'createAlertRule' | 'updateAlertRule'>) => ({
  flowId: params.id,
  name: answer.name,
  enabled: answer.enabled,
  condition: answer.condition.kind,
  channel: answer.channel.type,
});

export const AUDIT_DECLARATIONS: Declarations = {
  // connections: the fields given are named, their values never recorded (a secret among them)
  createConnection: {
    action: 'connection.created',
    objectType: 'connection',
    created: ({ answer }) => answer.name,
    summary: ({ body }) => ({ auth: body.auth, fields: Object.keys(body).sort() }),
  },
  updateConnection: {
    action: 'connection.changed',
    objectType: 'connection',
    param: 'name',
    summary: ({ body }) => ({ fields: Object.keys(body).sort() }),
  },
  deleteConnection: { action: 'connection.deleted', objectType: 'connection', param: 'name' },
  checkConnection: {
    action: 'connection.tested',
    objectType: 'connection',
    param: 'name',
    summary: ({ answer }) => ({ state: answer?.state ?? null }),
  },

  // API tokens: the name, never the token or its prefix
  createToken: {
    action: 'token.created',
    objectType: 'token',
    created: ({ answer }) => String(answer.info.id),
    summary: ({ body }) => ({ name: body.name }),
  },
  revokeToken: { action: 'token.revoked', objectType: 'token', param: 'id' },

  // users and sessions: never a password, only that one was set or changed
  login: {
    action: 'user.signed_in',
    objectType: 'user',
    signsIn: true,
    created: ({ answer }) => answer.user?.id ?? answer.actor.id,
  },
  setup: {
    action: 'user.created',
    objectType: 'user',
    signsIn: true,
    created: ({ answer }) => answer.user?.id ?? answer.actor.id,
    summary: ({ answer }) => ({ email: answer.user?.email, role: answer.role, firstAdmin: true }),
  },
  logout: { action: 'session.ended', objectType: 'session' },
  changePassword: { action: 'user.password_changed', objectType: 'user' },
  revokeSession: { action: 'session.revoked', objectType: 'session', param: 'id' },
  createUser: {
    action: 'user.created',
    objectType: 'user',
    created: ({ answer }) => answer.id,
    summary: ({ answer }) => ({ email: answer.email, role: answer.role }),
  },
  updateUser: {
    action: 'user.changed',
    objectType: 'user',
    param: 'id',
    summary: ({ body, answer }) => ({
      fields: Object.keys(body).sort(),
      role: answer.role,
      active: answer.active,
    }),
  },
  deleteUser: { action: 'user.deleted', objectType: 'user', param: 'id' },

  prune: {
    action: 'retention.pruned',
    objectType: 'retention',
    summary: ({ answer }) => ({ runs: answer.runs, outcomes: answer.outcomes }),
  },

  // flows
  createFlow: {
    action: 'flow.created',
    objectType: 'flow',
    created: ({ answer }) => answer.id,
    summary: ({ answer }) => ({ name: answer.name, version: answer.version, problems: answer.problems.length }),
  },
  validateFlow: { notAudited: 'checks a document and keeps nothing' },
  saveFlow: {
    action: 'flow.saved',
    objectType: 'flow',
    param: 'id',
    summary: ({ answer }) => ({ name: answer.name, version: answer.version, problems: answer.problems.length }),
  },
  deleteFlow: {
    action: 'flow.deleted',
    actionOf: ({ answer }) => (answer.archived ? 'flow.archived' : 'flow.deleted'),
    objectType: 'flow',
    param: 'id',
  },
  restoreFlow: { action: 'flow.restored', objectType: 'flow', param: 'id' },
  duplicateFlow: {
    action: 'flow.duplicated',
    objectType: 'flow',
    created: ({ answer }) => answer.id,
    summary: ({ params, answer }) => ({ from: params.id, name: answer.name }),
  },
  publishFlow: {
    action: 'flow.published',
    objectType: 'flow',
    param: 'id',
    summary: ({ answer }) => ({ version: answer.publishedVersion }),
  },
  setFlowEnabled: {
    action: 'flow.enabled',
    actionOf: ({ body }) => (body.enabled ? 'flow.enabled' : 'flow.disabled'),
    objectType: 'flow',
    param: 'id',
    summary: ({ body }) => ({ enabled: body.enabled }),
  },
  rotateHook: {
    action: 'webhook.rotated',
    objectType: 'webhook',
    param: 'nodeId',
    summary: ({ params }) => ({ flowId: params.id }),
  },

  // runs
  startRun: {
    action: 'run.started',
    objectType: 'run',
    created: ({ answer }) => answer.runId,
    summary: ({ params, body }) => ({
      flowId: params.id,
      version: body?.version ?? 'latest',
      trigger: body?.trigger ?? 'api',
      ...(body?.records ? { records: body.records.length } : {}),
    }),
  },
  testFlow: {
    action: 'flow.tested',
    objectType: 'flow',
    param: 'id',
    summary: ({ body, answer }) => ({ runId: answer.runId, sendWrites: body.sendWrites, draft: !!body.document }),
  },
  testDraft: {
    action: 'flow.tested',
    objectType: 'flow',
    summary: ({ body, answer }) => ({ runId: answer.runId, sendWrites: body.sendWrites, draft: true }),
  },
  pauseRun: runControl('run.paused'),
  resumeRun: runControl('run.resumed'),
  cancelRun: runControl('run.cancelled'),
  retryRun: {
    action: 'run.retried',
    objectType: 'run',
    param: 'id',
    summary: ({ body, answer }) => ({
      retryRunId: answer.runId,
      version: answer.version,
      ...(body?.records ? { records: body.records.length } : {}),
    }),
  },

  // alert rules: the condition's and channel's kinds, never a channel's secret
  createAlertRule: {
    action: 'alert_rule.created',
    objectType: 'alert_rule',
    created: ({ answer }) => answer.id,
    summary: alertSummary,
  },
  updateAlertRule: { action: 'alert_rule.changed', objectType: 'alert_rule', param: 'ruleId', summary: alertSummary },
  deleteAlertRule: {
    action: 'alert_rule.deleted',
    objectType: 'alert_rule',
    param: 'ruleId',
    summary: ({ params }) => ({ flowId: params.id }),
  },
  testAlertRule: {
    action: 'alert_rule.tested',
    objectType: 'alert_rule',
    param: 'ruleId',
    summary: ({ params, answer }) => ({ flowId: params.id, deliveryId: answer.id, status: answer.status }),
  },
};
