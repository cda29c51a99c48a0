import type { MiddlewareHandler } from 'hono';

/**
 * Accepts `Authorization: Bearer <token>` (the system's static token, or one `accepts` takes: an
 * access token of the sandbox's OAuth2 server) and answers 401 JSON otherwise, as real systems do.
 */
export function bearerAuth(token: string, accepts?: (token: string) => boolean): MiddlewareHandler {
  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const given = header.startsWith('Bearer ') ? header.slice(7) : undefined;
    if (given === undefined || (given !== token && !accepts?.(given))) {
      return c.json({ error: { code: 'unauthorized', message: 'missing or wrong bearer token' } }, 401);
    }
    await next();
  };
}
