/**
 * The audit log: who changed what, when and from where. One entry per authenticated request to a
 * route that changes something (its outcome `ok`, or `refused` with the error's code when the server
 * refused it), and one per change made outside the API (a backup taken on the command line). Entries
 * are never changed or removed through the API; retention removes the old ones.
 */
import { z } from 'zod';

const instant = z.string().describe('An ISO 8601 instant, e.g. 2026-11-28T00:00:00.000Z.');

/** Who can act: an API token, the command line on the data folder, Sluice itself. */
export const AUDIT_ACTOR_KINDS = ['token', 'user', 'cli', 'system'] as const;

/** What came of the attempt: done, refused (a 4xx: bad input, not found, not allowed), or failed (a 5xx). */
export const AUDIT_OUTCOMES = ['ok', 'refused', 'failed'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

export const auditEntrySchema = z.strictObject({
  id: z.string().describe('Entries are numbered in the order they were written.'),
  at: instant,
  actor: z.strictObject({
    kind: z.string().describe('token, user, cli or system.'),
    id: z.string().describe('The token’s id (env for SLUICE_API_TOKEN), the user’s id, or cli / system.'),
    name: z.string().describe('The token’s or user’s name as it was then.'),
  }),
  address: z.string().nullable().describe('The client address the request came from; null outside the API.'),
  action: z.string().describe('What was done, e.g. flow.saved, connection.changed, run.cancelled, backup.taken.'),
  objectType: z.string().describe('The kind of thing it was done to: flow, connection, token, run, alert_rule, …'),
  objectId: z.string().nullable().describe('Its id (a connection’s name); null when the request named none.'),
  summary: z
    .record(z.string(), z.unknown())
    .nullable()
    .describe('What changed, in short (for a connection: which fields, never a secret).'),
  outcome: z.enum(AUDIT_OUTCOMES),
  error: z.string().nullable().describe('For a refused or failed attempt: the error code the API answered.'),
});
export type AuditEntry = z.output<typeof auditEntrySchema>;
