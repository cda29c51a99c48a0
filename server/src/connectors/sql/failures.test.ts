import { describe, expect, it } from 'vitest';
import { mysqlFailure } from './mysql.js';
import { pgFailure } from './postgres.js';
import { StatementError } from './session.js';

// how each driver's errors are told apart: retried against the breaker, or the statement's (final)
describe('driver errors', () => {
  it.each([
    [{ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:1' }, 'connection'],
    [{ code: '08006', message: 'connection failure' }, 'connection'],
    [{ code: '28P01', message: 'password authentication failed for user "x"' }, 'connection'],
    [{ message: 'Connection terminated unexpectedly' }, 'connection'],
    [{ code: '57014', message: 'canceling statement due to statement timeout' }, 'timeout'],
    [{ code: '40P01', message: 'deadlock detected' }, 'timeout'],
    [{ code: '23502', message: 'null value in column "name" violates not-null constraint' }, 'statement'],
    [{ code: '42P01', message: 'relation "x" does not exist' }, 'statement'],
  ])('PostgreSQL %j → %s', (err, code) => {
    const failure = pgFailure(err);
    expect(failure.code).toBe(code);
    if (code === 'statement') expect(failure).toBeInstanceOf(StatementError);
  });

  it.each([
    [{ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' }, 'connection'],
    [{ code: 'ER_ACCESS_DENIED_ERROR', message: "Access denied for user 'x'" }, 'connection'],
    [{ code: 'PROTOCOL_CONNECTION_LOST', fatal: true, message: 'Connection lost' }, 'connection'],
    [{ code: 'PROTOCOL_SEQUENCE_TIMEOUT', message: 'Query inactivity timeout' }, 'timeout'],
    [{ code: 'ER_LOCK_DEADLOCK', message: 'Deadlock found when trying to get lock' }, 'timeout'],
    [{ code: 'ER_BAD_NULL_ERROR', message: "Column 'name' cannot be null" }, 'statement'],
    [{ code: 'ER_NO_SUCH_TABLE', message: "Table 'x.y' doesn't exist" }, 'statement'],
  ])('MySQL %j → %s', (err, code) => {
    expect(mysqlFailure(err).code).toBe(code);
  });
});
