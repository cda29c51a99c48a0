/** Schemas of users, sessions and signing in (the routes are in contract.ts, their permissions in permissions.ts). */
import { z } from 'zod';
import { PERMISSIONS, ROLES } from './roles.js';

const instant = z.string().describe('An ISO 8601 instant, e.g. 2026-11-28T00:00:00.000Z.');

/** Passwords: long enough to resist guessing, short enough that hashing one costs a bounded time. */
export const PASSWORD_MIN = 10;
export const PASSWORD_MAX = 200;

export const passwordSchema = z
  .string()
  .min(PASSWORD_MIN, `must be at least ${PASSWORD_MIN} characters`)
  .max(PASSWORD_MAX);
export const emailSchema = z
  .string()
  .trim()
  .max(254)
  .regex(/^[^\s@]+@[^\s@]+$/, 'must be an e-mail address, e.g. ada@example.com')
  .transform((s) => s.toLowerCase());
const displayName = z.string().trim().min(1).max(100);
export const roleSchema = z.enum(ROLES);

export const userViewSchema = z.strictObject({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  role: roleSchema,
  active: z.boolean().describe('A deactivated user cannot sign in, and its sessions and tokens stop working.'),
  createdAt: instant,
  updatedAt: instant,
});
export type UserView = z.output<typeof userViewSchema>;

export const sessionViewSchema = z.strictObject({
  actor: z.strictObject({
    kind: z.enum(['user', 'token']),
    id: z.string(),
    name: z.string(),
  }),
  user: userViewSchema
    .nullable()
    .describe('The signed-in user, or the user a token belongs to; null for a service token.'),
  role: roleSchema,
  permissions: z.array(z.enum(PERMISSIONS)),
  csrfToken: z
    .string()
    .nullable()
    .describe('Send as X-CSRF-Token on every state-changing request made with the session cookie; null for a token.'),
  expiresAt: instant.nullable(),
});
export type SessionView = z.output<typeof sessionViewSchema>;

export const sessionInfoSchema = z.strictObject({
  id: z.string(),
  createdAt: instant,
  lastSeenAt: instant,
  expiresAt: instant,
  address: z.string().nullable(),
  userAgent: z.string().nullable(),
  current: z.boolean(),
});
export type SessionInfo = z.output<typeof sessionInfoSchema>;

export const loginBodySchema = z.strictObject({
  email: emailSchema,
  // the length is checked for a new password only: a wrong old one is just wrong
  password: z.string().min(1).max(PASSWORD_MAX),
});

export const setupBodySchema = z.strictObject({
  token: z.string().min(1).max(200).describe('The one-time setup token printed on the first start.'),
  email: emailSchema,
  name: displayName,
  password: passwordSchema,
});

export const passwordChangeSchema = z.strictObject({
  currentPassword: z.string().min(1).max(PASSWORD_MAX),
  newPassword: passwordSchema,
});

export const userInputSchema = z.strictObject({
  email: emailSchema,
  name: displayName,
  role: roleSchema,
  password: passwordSchema,
});

export const userPatchSchema = z.strictObject({
  name: displayName.optional(),
  role: roleSchema.optional(),
  active: z.boolean().optional(),
  password: passwordSchema.optional().describe('Set a new password; the user’s sessions are signed out.'),
});
