import type { MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import { secureHeaders } from 'hono/secure-headers';

/**
 * The Content-Security-Policy of the pages (the editor, /reference): scripts only from the server's
 * own files (the built editor has no inline script), no plugins, no framing, requests only to the
 * server. Styles allow 'unsafe-inline': React Flow places nodes and edges with style attributes and
 * CodeMirror adds its theme as <style> elements at run time; styles cannot run code. Images allow
 * data: for the favicon and React Flow's background.
 */
export const PAGE_POLICY = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'", "'unsafe-inline'"],
  imgSrc: ["'self'", 'data:'],
  fontSrc: ["'self'"],
  connectSrc: ["'self'"],
  objectSrc: ["'none'"],
  baseUri: ["'none'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
};

/** JSON and event streams are never rendered as pages: nothing may load from them, nor frame them. */
export const API_POLICY = { defaultSrc: ["'none'"], frameAncestors: ["'none'"] };

const common = {
  xFrameOptions: 'DENY',
  referrerPolicy: 'no-referrer',
  xContentTypeOptions: 'nosniff',
  // HSTS is for whoever terminates TLS in front of Sluice to set, for its own domain: over plain HTTP
  // browsers ignore it, and a default here would pin subdomains the operator did not mean to
  strictTransportSecurity: false,
} as const;

/**
 * Security headers on every answer: nosniff, no framing (X-Frame-Options DENY and frame-ancestors
 * 'none'), no referrer, and a Content-Security-Policy: the pages' policy, or a closed one for the API
 * (`/api`, `/hooks`, `/metrics`).
 */
export function securityHeaders(): MiddlewareHandler {
  const pages = secureHeaders({ ...common, contentSecurityPolicy: PAGE_POLICY });
  const api = secureHeaders({ ...common, contentSecurityPolicy: API_POLICY });
  return (c, next) => (isApiPath(c.req.path) ? api(c, next) : pages(c, next));
}

function isApiPath(p: string): boolean {
  return p.startsWith('/api/') || p.startsWith('/hooks/') || p === '/metrics';
}

/**
 * CORS for the API, or none: closed (no Access-Control-* header, so browsers on other origins cannot
 * read an answer, and a preflight finds nothing) unless origins are listed; then those origins only,
 * with their preflight answered before authentication. Tokens go in the Authorization header, so no
 * credentials (cookies) are allowed across origins.
 */
export function apiCors(origins: readonly string[]): MiddlewareHandler | undefined {
  if (origins.length === 0) return undefined;
  return cors({
    origin: [...origins],
    allowMethods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowHeaders: ['authorization', 'content-type', 'last-event-id'],
    maxAge: 600,
  });
}

/**
 * Reads SLUICE_CORS_ORIGINS: origins separated by commas or spaces, each `scheme://host[:port]` as a
 * browser sends it in Origin; anything else (a path, '*') is refused with a message naming the variable.
 */
export function corsOriginsFrom(env: NodeJS.ProcessEnv): string[] {
  const listed = (env.SLUICE_CORS_ORIGINS ?? '').split(/[\s,]+/).filter(Boolean);
  return listed.map((origin) => {
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = undefined;
    }
    if (!parsed || !/^https?:$/.test(parsed.protocol) || parsed.origin !== origin.replace(/\/$/, '')) {
      throw new Error(
        `SLUICE_CORS_ORIGINS: "${origin}" is not an origin; list origins such as https://tools.example.com ` +
          '(scheme, host and port only, no path, no *), separated by commas',
      );
    }
    return parsed.origin;
  });
}
