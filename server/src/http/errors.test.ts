import type { ApiErrorBody, Problem } from '@sluice/shared';
import { Hono } from 'hono';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  ConflictError,
  type DomainError,
  InvalidError,
  InvalidFlowError,
  NotFoundError,
  notFound,
  TooLargeError,
  UnauthenticatedError,
} from '../errors.js';
import { ApiError, DOMAIN_STATUS, errorResponse } from './errors.js';

/** Answers one request with whatever `thrown` throws, through the app's real error handler. */
async function answer(thrown: Error): Promise<{ status: number; body: ApiErrorBody }> {
  const app = new Hono();
  app.onError(errorResponse);
  app.get('/', () => {
    throw thrown;
  });
  const res = await app.request('/');
  return { status: res.status, body: (await res.json()) as ApiErrorBody };
}

const problem: Problem = { severity: 'error', code: 'no-source', path: 'nodes', message: 'nodes: no source' };

describe('domain errors answered over HTTP', () => {
  afterEach(() => vi.restoreAllMocks());

  const cases: [DomainError, number, ApiErrorBody['error']][] = [
    [
      new InvalidError('bad_request', 'username: required for basic auth', { path: 'username' }),
      400,
      { code: 'bad_request', message: 'username: required for basic auth', path: 'username' },
    ],
    [
      new UnauthenticatedError('bad_secret', "x-sluice-secret: not this hook's secret"),
      401,
      { code: 'bad_secret', message: "x-sluice-secret: not this hook's secret" },
    ],
    [notFound('flow', 'flow_x'), 404, { code: 'not_found', message: 'flow "flow_x" does not exist' }],
    [
      new NotFoundError('no webhook at this address'),
      404,
      { code: 'not_found', message: 'no webhook at this address' },
    ],
    [
      new ConflictError('exists', 'name: a connection named "crm" already exists', { path: 'name' }),
      409,
      { code: 'exists', message: 'name: a connection named "crm" already exists', path: 'name' },
    ],
    [
      new TooLargeError('request body: larger than 10 bytes'),
      413,
      { code: 'too_large', message: 'request body: larger than 10 bytes' },
    ],
    [
      new InvalidFlowError('nodes: no source', { path: 'nodes', problems: [problem] }),
      422,
      { code: 'invalid_flow', message: 'nodes: no source', path: 'nodes', problems: [problem] },
    ],
  ];

  it.each(cases)('%s → %i with its code, message, path and problems', async (error, status, body) => {
    expect(await answer(error)).toEqual({ status, body: { error: body } });
  });

  it('gives every kind of domain error one status, none of them a 5xx', () => {
    const kinds = new Set(cases.map(([error]) => error.kind));
    expect([...kinds].sort()).toEqual(Object.keys(DOMAIN_STATUS).sort());
    for (const status of Object.values(DOMAIN_STATUS)) expect(status).toBeLessThan(500);
  });

  it("answers the HTTP layer's own errors with their status, and anything else 500 without its message", async () => {
    expect(await answer(new ApiError(404, 'not_found', 'no such API route'))).toEqual({
      status: 404,
      body: { error: { code: 'not_found', message: 'no such API route' } },
    });
    vi.spyOn(console, 'error').mockImplementation(() => {}); // the handler logs it; this test only reads the answer
    const unexpected = await answer(new Error('SQLITE_BUSY: database is locked at /srv/secret/path'));
    expect(unexpected.status).toBe(500);
    expect(unexpected.body.error.code).toBe('internal');
    expect(JSON.stringify(unexpected.body)).not.toContain('/srv/secret/path');
  });
});
