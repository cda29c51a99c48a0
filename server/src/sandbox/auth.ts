import type { MiddlewareHandler } from 'hono';

/** Accepts `Authorization: Bearer <token>` and answers 401 JSON otherwise, as real systems do. */
export function bearerAuth(token: string): MiddlewareHandler {
  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    if (header !== `Bearer ${token}`) {
      return c.json({ error: { code: 'unauthorized', message: 'missing or wrong bearer token' } }, 401);
    }
    await next();
  };
}
