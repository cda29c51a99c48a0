import { describe, expect, it } from 'vitest';
import { ApiClientError, describeError } from '../../api';
import {
  buildBody,
  type ConnectionView,
  EMPTY_FORM,
  fieldForPath,
  formFromConnection,
  newConnectionInput,
  newerStatus,
  placeError,
} from '../../components/connections/form';

const stored: ConnectionView = {
  name: 'crm',
  baseUrl: 'https://crm.example.com',
  auth: 'bearer',
  username: null,
  headerName: null,
  secret: '••••abcd',
  checkPath: '/health',
  breaker: null,
  limits: { maxConcurrent: null, maxPerSecond: null, adaptive: false },
  builtIn: false,
  status: null,
};

describe('connection form', () => {
  it('builds a create body with only the fields the auth type uses', () => {
    const result = buildBody({
      ...EMPTY_FORM,
      name: ' crm ',
      baseUrl: 'https://crm.example.com',
      auth: 'api-key',
      username: 'ignored',
      headerName: 'X-API-Key',
      secret: 's3cret',
    });
    expect(result).toEqual({
      ok: true,
      body: {
        name: 'crm',
        baseUrl: 'https://crm.example.com',
        auth: 'api-key',
        headerName: 'X-API-Key',
        secret: 's3cret',
      },
    });
  });

  it('checks the common mistakes before asking the server', () => {
    const result = buildBody({ ...EMPTY_FORM, name: 'Bad Name', baseUrl: 'crm', auth: 'basic', failureThreshold: '3' });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(Object.keys(result.errors).sort()).toEqual(['baseUrl', 'breaker.cooldownMs', 'name', 'username']);
  });

  it('never pre-fills the secret when editing, and keeps the stored one when left empty', () => {
    const values = formFromConnection(stored);
    expect(values.secret).toBe('');
    const result = buildBody(values, stored);
    expect(result).toEqual({
      ok: true,
      body: { baseUrl: 'https://crm.example.com', auth: 'bearer', checkPath: '/health' },
    });
  });

  it('sends secret: null to remove the secret, and a new one to replace it', () => {
    const basic = { ...stored, auth: 'basic' as const, username: 'alice' };
    const removed = buildBody({ ...formFromConnection(basic), removeSecret: true }, basic);
    expect(removed.ok && removed.body.secret).toBeNull();
    const replaced = buildBody({ ...formFromConnection(stored), secret: 'new-token' }, stored);
    expect(replaced.ok && replaced.body.secret).toBe('new-token');
    const bearerRemoved = buildBody({ ...formFromConnection(stored), removeSecret: true }, stored);
    expect(bearerRemoved.ok).toBe(false);
  });

  it('asks for both breaker values, and will not drop a stored breaker', () => {
    const withBreaker = { ...stored, breaker: { failureThreshold: 5, cooldownMs: 30_000 } };
    const kept = buildBody(formFromConnection(withBreaker), withBreaker);
    expect(kept.ok && kept.body.breaker).toEqual({ failureThreshold: 5, cooldownMs: 30_000 });
    const cleared = buildBody(
      { ...formFromConnection(withBreaker), failureThreshold: '', cooldownMs: '' },
      withBreaker,
    );
    expect(cleared.ok).toBe(false);
  });

  it('sends the limits typed, checks them as the server does, and empties them to remove stored ones', () => {
    const created = buildBody({
      ...EMPTY_FORM,
      name: 'erp',
      baseUrl: 'https://erp.example.com',
      maxConcurrent: ' 4 ',
      maxPerSecond: '0.5',
    });
    expect(created.ok && created.body.limits).toEqual({ maxConcurrent: 4, maxPerSecond: 0.5 });
    expect(created.ok && newConnectionInput(created.body).limits).toEqual({ maxConcurrent: 4, maxPerSecond: 0.5 });
    const none = buildBody({ ...EMPTY_FORM, name: 'erp', baseUrl: 'https://erp.example.com' });
    expect(none.ok && 'limits' in none.body).toBe(false);

    const wrong = buildBody({
      ...EMPTY_FORM,
      name: 'erp',
      baseUrl: 'https://erp.example.com',
      maxConcurrent: '0',
      maxPerSecond: 'fast',
    });
    expect(wrong.ok).toBe(false);
    if (wrong.ok) return;
    expect(wrong.errors).toEqual({
      'limits.maxConcurrent': 'A whole number from 1 to 1000.',
      'limits.maxPerSecond': 'A number above 0, at most 10000 (0.5: one request every 2 s).',
    });
    for (const [maxConcurrent, maxPerSecond] of [
      ['1001', '10001'],
      ['2.5', '0'],
    ] as const) {
      const r = buildBody({
        ...EMPTY_FORM,
        name: 'erp',
        baseUrl: 'https://erp.example.com',
        maxConcurrent,
        maxPerSecond,
      });
      expect(r.ok ? [] : Object.keys(r.errors).sort()).toEqual(['limits.maxConcurrent', 'limits.maxPerSecond']);
    }

    const limited = { ...stored, limits: { maxConcurrent: null, maxPerSecond: 20, adaptive: false } };
    const values = formFromConnection(limited);
    expect([values.maxConcurrent, values.maxPerSecond]).toEqual(['', '20']);
    const kept = buildBody(values, limited);
    expect(kept.ok && kept.body.limits).toEqual({ maxPerSecond: 20 });
    const removed = buildBody({ ...values, maxPerSecond: '' }, limited);
    expect(removed.ok && removed.body.limits).toEqual({});
    // adaptive pacing: sent when ticked, and a stored one unticked is removed with the rest
    const adaptive = buildBody({ ...values, adaptive: true }, limited);
    expect(adaptive.ok && adaptive.body.limits).toEqual({ maxPerSecond: 20, adaptive: true });
    const learning = { ...stored, limits: { maxConcurrent: null, maxPerSecond: null, adaptive: true } };
    expect(formFromConnection(learning).adaptive).toBe(true);
    const unticked = buildBody({ ...formFromConnection(learning), adaptive: false }, learning);
    expect(unticked.ok && unticked.body.limits).toEqual({});
    // a server that does not answer limits yet: nothing to remove, nothing sent
    const untouched = buildBody(formFromConnection(stored), stored);
    expect(untouched.ok && 'limits' in untouched.body).toBe(false);
  });

  it('puts a 4xx naming a field under that field, anything else at the top', () => {
    expect(fieldForPath('limits.maxPerSecond')).toBe('limits.maxPerSecond');
    expect(fieldForPath('limits')).toBe('limits');
    expect(fieldForPath('breaker.cooldownMs')).toBe('breaker.cooldownMs');
    expect(fieldForPath('request body')).toBeNull();
    const named = placeError(
      new ApiClientError(409, 'exists', 'name: a connection named "crm" already exists', 'name'),
      describeError,
    );
    expect(named).toEqual({ field: 'name', message: 'A connection named "crm" already exists' });
    const top = placeError(new ApiClientError(500, 'internal', 'internal error', undefined), describeError);
    expect(top.field).toBeNull();
    expect(
      placeError(new ApiClientError(0, 'network', 'Cannot reach the Sluice server.'), describeError).field,
    ).toBeNull();
  });

  it('keeps the newer of two statuses', () => {
    const older = { state: 'error', message: null, checkedAt: '2024-01-01T00:00:00Z' };
    const newer = { state: 'ok', message: null, checkedAt: '2024-01-02T00:00:00Z' };
    expect(newerStatus(older, newer)).toBe(newer);
    expect(newerStatus(newer, older)).toBe(newer);
    expect(newerStatus(null, newer)).toBe(newer);
    expect(newerStatus(older, undefined)).toBe(older);
  });
});

describe('newConnectionInput', () => {
  it('reads a built body with the server’s schema, and places what it refuses under the field', () => {
    const built = buildBody({ ...EMPTY_FORM, name: 'crm', baseUrl: 'https://crm.example.com' });
    expect(built.ok && newConnectionInput(built.body)).toEqual({
      name: 'crm',
      baseUrl: 'https://crm.example.com',
      auth: 'none',
    });
    const refused = (() => {
      try {
        return newConnectionInput({ name: 'crm', baseUrl: 'https://crm.example.com', headerName: 'not a header' });
      } catch (error) {
        return placeError(error, describeError);
      }
    })();
    expect(refused).toEqual({ field: 'headerName', message: 'Must be an HTTP header name' });
  });
});
