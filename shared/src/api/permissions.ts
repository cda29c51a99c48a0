/**
 * Roles and permissions: what each role may do (roles.ts), and which permission each API route needs.
 * The map is typed over every route name, so a route added to the contract without a permission here
 * does not compile; the server refuses a request whose actor's role lacks the route's permission (403).
 */
import type { RouteName } from './contract.js';
import type { Permission } from './roles.js';

export {
  lesserRole,
  PERMISSIONS,
  type Permission,
  ROLE_DESCRIPTIONS,
  ROLE_PERMISSIONS,
  ROLES,
  type Role,
  roleAllows,
} from './roles.js';

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
  // who changed what, from where: for admins, like the users it names
  listAudit: 'audit.read',
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
  testAlertRule: 'alerts.write',
  listAlertDeliveries: 'read',

  events: 'read',
  runEvents: 'read',
  flowJsonSchema: 'read',
  openApi: 'read',
};
