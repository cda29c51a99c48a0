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

  it('puts a 4xx naming a field under that field, anything else at the top', () => {
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
