import type { Problem } from '@sluice/shared';

/**
 * Errors of the server's domain: a request that was understood but cannot be carried out as asked.
 * Domain code throws them without knowing about HTTP; `http/errors.ts` answers each kind with its
 * status in one place. The `code` is stable (clients branch on it); the message says what is wrong
 * in words a user can act on, and names the field at fault first when there is one.
 */

/** The kinds of domain error; http/errors.ts gives each one status. */
export type DomainErrorKind = 'invalid' | 'invalid_flow' | 'unauthenticated' | 'not_found' | 'conflict' | 'too_large';

/** Where an error points: the field at fault (a path into the input) and, for a document, every problem. */
export interface ErrorDetails {
  path?: string | undefined;
  problems?: Problem[] | undefined;
}

export abstract class DomainError extends Error {
  abstract readonly kind: DomainErrorKind;
  readonly path: string | undefined;
  readonly problems: Problem[] | undefined;

  constructor(
    readonly code: string,
    message: string,
    details: ErrorDetails = {},
  ) {
    super(message);
    this.name = new.target.name;
    this.path = details.path;
    this.problems = details.problems;
  }
}

/** The input is malformed or misses something it needs (e.g. not JSON, a required field left out). */
export class InvalidError extends DomainError {
  readonly kind = 'invalid';
}

/** A flow document can be read but has problems that forbid what was asked (running, publishing). */
export class InvalidFlowError extends DomainError {
  readonly kind = 'invalid_flow';

  constructor(message: string, details: ErrorDetails) {
    super('invalid_flow', message, details);
  }
}

/** The caller did not prove it may do this (a webhook's signature or secret). */
export class UnauthenticatedError extends DomainError {
  readonly kind = 'unauthenticated';
}

/** Something named does not exist. */
export class NotFoundError extends DomainError {
  readonly kind = 'not_found';

  constructor(message: string, code = 'not_found') {
    super(code, message);
  }
}

/** The request contradicts the current state (already exists, already finished, not published…). */
export class ConflictError extends DomainError {
  readonly kind = 'conflict';
}

/** The input is larger than allowed. */
export class TooLargeError extends DomainError {
  readonly kind = 'too_large';

  constructor(message: string) {
    super('too_large', message);
  }
}

/** `what "id" does not exist`: the one wording for a missing flow, run, connection… */
export const notFound = (what: string, id: string) => new NotFoundError(`${what} "${id}" does not exist`);
