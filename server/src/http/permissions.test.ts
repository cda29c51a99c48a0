import {
  apiContract,
  apiErrorBodySchema,
  HTTP_STATUS,
  ROLE_PERMISSIONS,
  ROLES,
  ROUTE_PERMISSIONS,
  type Role,
  type RouteName,
  roleAllows,
} from '@sluice/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AppDeps, createApp } from './app.js';
import type { RegisteredRoute } from './spec.js';
import { openTestSluice, type TestSluice } from './test-support.js';

/**
 * The role × route matrix, generated from the declarations: every route the app serves is asked by a
 * token of a user of every role; where the role has the route's permission the answer is anything but
 * 403, where it has not it is 403 with the JSON error naming the permission (before the input is even
 * read, so the request's contents do not matter).
 */

const declared: RegisteredRoute[] = createApp({} as AppDeps).routes;

let t: TestSluice;
const tokens = {} as Record<Role, string>;

beforeAll(async () => {
  t = await openTestSluice({ start: false });
  for (const role of ROLES) {
    const user = await t.parts.identity.createUser({
      email: `${role}@example.com`,
      name: role,
      role,
      password: 'matrix-password',
    });
    tokens[role] = (await t.parts.tokens.create(role, { userId: user.id, role })).token;
  }
}, 60_000);

afterAll(async () => {
  await t?.close();
});

describe('permissions', () => {
  it('every route the contract declares has a permission, and the public ones are those that need no credential', () => {
    expect(Object.keys(ROUTE_PERMISSIONS).sort()).toEqual(Object.keys(apiContract).sort());
    for (const [name, route] of Object.entries(apiContract)) {
      const open = 'auth' in route && route.auth === false;
      expect(ROUTE_PERMISSIONS[name as RouteName] === 'public', name).toBe(open);
    }
    expect(declared.map((r) => r.name).sort()).toEqual(Object.keys(apiContract).sort());
  });

  it('roles nest: each may do what the roles below it may; a viewer never reads secrets', () => {
    for (let i = 1; i < ROLES.length; i++) {
      const lower = ROLE_PERMISSIONS[ROLES[i] as Role];
      for (const p of lower) expect(roleAllows(ROLES[i - 1] as Role, p), `${ROLES[i - 1]} ${p}`).toBe(true);
    }
    expect(ROLE_PERMISSIONS.viewer).not.toContain('secrets.read');
    expect(ROLE_PERMISSIONS.operator).toContain('runs.control');
    expect(ROLE_PERMISSIONS.operator).not.toContain('flows.write');
    expect(ROLE_PERMISSIONS.editor).not.toContain('users.manage');
  });

  for (const route of declared) {
    const permission = ROUTE_PERMISSIONS[route.name];
    for (const role of ROLES) {
      const allowed = roleAllows(role, permission);
      it(`${route.method.toUpperCase()} ${route.path} as ${role}: ${allowed ? 'allowed' : `403 (${permission})`}`, async () => {
        const path = route.path.replace(/\{(\w+)\}/g, (_m, name: string) => (name === 'id' ? '999999' : 'none'));
        const res = await t.raw.request(path, {
          method: route.method.toUpperCase(),
          headers: { authorization: `Bearer ${tokens[role]}`, 'content-type': 'application/json' },
          ...(route.method === 'get' ? {} : { body: '{}' }),
        });
        if (allowed) {
          const stream = res.headers.get('content-type')?.startsWith('text/event-stream');
          const text = stream ? await res.body?.cancel() : await res.text();
          expect(res.status, text ?? 'a stream').not.toBe(HTTP_STATUS.FORBIDDEN);
          return;
        }
        expect(res.status).toBe(HTTP_STATUS.FORBIDDEN);
        const body = apiErrorBodySchema.parse(await res.json());
        expect(body.error).toMatchObject({ code: 'forbidden', permission });
        expect(body.error.message).toContain(`"${permission}"`);
        expect(body.error.message).toContain(role);
      });
    }
  }
});
