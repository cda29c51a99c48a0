/**
 * The HTTP status codes the API answers with, named once: handlers, the contract and clients use these
 * names instead of bare numbers, so a reader sees the meaning and a search finds every use.
 */
export const HTTP_STATUS = {
  OK: 200,
  CREATED: 201,
  ACCEPTED: 202,
  NO_CONTENT: 204,
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UNPROCESSABLE: 422,
  TOO_MANY_REQUESTS: 429,
  INTERNAL: 500,
  SERVICE_UNAVAILABLE: 503,
} as const;

export type HttpStatus = (typeof HTTP_STATUS)[keyof typeof HTTP_STATUS];

/** The statuses a route may answer with success; each route declares exactly one. */
export type SuccessStatus =
  | typeof HTTP_STATUS.OK
  | typeof HTTP_STATUS.CREATED
  | typeof HTTP_STATUS.ACCEPTED
  | typeof HTTP_STATUS.NO_CONTENT;

/** The error statuses a route may declare (every one answers the error body). */
export type ErrorStatus = Exclude<HttpStatus, SuccessStatus>;
