/**
 * Roles and permissions: what each role may do, and which permission each API route needs. The map is
 * typed over every route name, so a route added to the contract without a permission here does not
 * compile; the server refuses a request whose actor's role lacks the route's permission (403).
 */
import type { RouteName } from './contract.js';

/** The roles, from most to least allowed; each role may do everything the roles after it may. */
export const ROLES = ['admin', 'editor', 'operator', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

/**
 * What a route needs. `public`: nothing (liveness, readiness, signing in); `self`: any signed-in actor,
 * acting on its own session or tokens; `read`: read everything except secrets; the rest as named.
 */
export const PERMISSIONS = [
  'public',
  'self',
  'read',
  'runs.control',
  'flows.write',
  'flows.test',
  'connections.write',
  'alerts.write',
  'secrets.read',
  'tokens.write',
  'users.manage',
  'settings.write',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** What each role may do (`public` is everyone's, signed in or not). */
export const ROLE_PERMISSIONS: { readonly [R in Role]: readonly Permission[] } = {
  viewer: ['public', 'self', 'read'],
  operator: ['public', 'self', 'read', 'runs.control'],
  editor: [
    'public',
    'self',
    'read',
    'runs.control',
    'flows.write',
    'flows.test',
    'connections.write',
    'alerts.write',
    'secrets.read',
    'tokens.write',
  ],
  admin: PERMISSIONS,
};

/** What the roles are for, in a sentence each (the editor's user form shows them). */
export const ROLE_DESCRIPTIONS: { readonly [R in Role]: string } = {
  admin: 'Everything, including users, tokens and settings',
  editor: 'Builds flows and connections, runs and tests them',
  operator: 'Starts, pauses, resumes, cancels and retries runs; reads everything',
  viewer: 'Reads flows and runs; never sees a secret',
};

export function roleAllows(role: Role, permission: Permission): boolean {
  return ROLE_PERMISSIONS[role].includes(permission);
}

/** The lesser of two roles (a token of a user acts with at most that user's role). */
export function lesserRole(a: Role, b: Role): Role {
  return ROLES.indexOf(a) > ROLES.indexOf(b) ? a : b;
}

/**
 * The permission each route needs. A route the contract declares and this map leaves out fails the
 * type check; `public` routes are the ones the contract marks `auth: false` (a test holds them equal).
 */
export const ROUTE_PERMISSIONS: { readonly [N in RouteName]: Permission } = {
  health: 'public',
  ready: 'public',
  login: 'public',
  setup: 'public',

  getSession: 'self',
  logout: 'self',
  changePassword: 'self',
  listSessions: 'self',
  revokeSession: 'self',

  listUsers: 'users.manage',
  createUser: 'users.manage',
  updateUser: 'users.manage',
  deleteUser: 'users.manage',

  listNodeTypes: 'read',
  listTemplates: 'read',
  listConnections: 'read',
  createConnection: 'connections.write',
  getConnection: 'read',
  updateConnection: 'connections.write',
  deleteConnection: 'connections.write',
  checkConnection: 'connections.write',
  // the token routes show and make a caller's own tokens; an admin's reach every token (the handlers check)
  listTokens: 'self',
  createToken: 'tokens.write',
  revokeToken: 'self',
  getSettings: 'read',
  getOperations: 'read',
  prune: 'settings.write',

  listFlows: 'read',
  createFlow: 'flows.write',
  validateFlow: 'read',
  getFlow: 'read',
  saveFlow: 'flows.write',
  deleteFlow: 'flows.write',
  restoreFlow: 'flows.write',
  duplicateFlow: 'flows.write',
  listVersions: 'read',
  publishFlow: 'flows.write',
  setFlowEnabled: 'flows.write',
  startRun: 'runs.control',
  flowEstimate: 'read',
  testFlow: 'flows.test',
  testDraft: 'flows.test',
  flowSchedules: 'read',
  previewSchedule: 'read',
  // a hook's secret is in these answers
  listHooks: 'secrets.read',
  rotateHook: 'flows.write',
  listWatermarks: 'read',
  recordHistory: 'read',

  listRuns: 'read',
  getRun: 'read',
  testData: 'read',
  pauseRun: 'runs.control',
  resumeRun: 'runs.control',
  cancelRun: 'runs.control',
  retryRun: 'runs.control',
  listRecords: 'read',
  errorGroups: 'read',
  listCollected: 'read',

  listAlertRules: 'read',
  createAlertRule: 'alerts.write',
  updateAlertRule: 'alerts.write',
  deleteAlertRule: 'alerts.write',
  listAlertDeliveries: 'read',

  events: 'read',
  runEvents: 'read',
  flowJsonSchema: 'read',
  openApi: 'read',
};
