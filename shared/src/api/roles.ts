/**
 * The roles and the permissions each grants; which permission each route needs is in permissions.ts
 * (apart, so the schemas can name the roles without importing the contract).
 */

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
  'audit.read',
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
  admin: 'Everything, including users, tokens, settings and the audit log',
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
