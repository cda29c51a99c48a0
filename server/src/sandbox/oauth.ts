/**
 * The sandbox's OAuth2 authorization server: `POST /oauth/token` issues short-lived bearer tokens for
 * the client-credentials and refresh-token grants (RFC 6749 §4.4, §6), which the sandbox systems
 * accept beside their static tokens. A refresh token is rotated at each use (the old one stops
 * working). Clients authenticate with HTTP Basic or with `client_id` and `client_secret` in the body.
 * Tests revoke a client's secret (and the tokens issued to it) through the handle or
 * `PUT /oauth/_sandbox/clients/{id}`, and read how many tokens were asked for at `GET /oauth/_sandbox/stats`.
 */
import { randomBytes } from 'node:crypto';
import { Hono } from 'hono';

export interface OAuthOptions {
  /** Lifetime of an access token, in ms (default 30 s); `expires_in` says it in whole seconds. */
  tokenTtlMs?: number;
  /** The clients the server knows: id → secret. */
  clients?: Record<string, string>;
  now?: () => number;
}

export interface OAuthStats {
  /** Token requests received, refused ones included. */
  tokenRequests: number;
  /** Access tokens issued. */
  issued: number;
  /** Token requests refused (unknown client, wrong or revoked secret, bad refresh token). */
  refused: number;
  /** Access tokens issued per grant. */
  byGrant: Record<string, number>;
  /** Requests to the systems whose bearer token was not theirs and not a valid access token (expired, revoked, unknown). */
  rejectedAtSystems: number;
}

export interface OAuthServer {
  /** `POST /token`, and the admin endpoints under `/_sandbox/`; mounted at `/oauth`. */
  app: Hono;
  /** Whether an access token is one this server issued and is still valid. */
  accepts(token: string): boolean;
  stats(): OAuthStats;
  /** Revokes a client's secret and every token issued to it: its next token request is refused. */
  revoke(clientId: string): void;
  /** Gives a client a (new) secret. */
  setSecret(clientId: string, secret: string): void;
  /** Issues a refresh token for a client, as an authorization-code flow would have. */
  issueRefreshToken(clientId: string, scope?: string): string;
  /** The refresh tokens that still work (rotated ones are gone), for tests. */
  liveRefreshTokens(): string[];
  /** Changes the lifetime of the tokens issued from now on. */
  setTokenTtl(ms: number): void;
}

export const OAUTH_DEFAULTS = { clientId: 'sluice', clientSecret: 'sandbox-client-secret', tokenTtlMs: 30_000 };

interface Issued {
  clientId: string;
  expiresAt: number;
}

/** Starts the sandbox's token endpoint (in memory). */
export function createOAuthServer(o: OAuthOptions = {}): OAuthServer {
  const now = o.now ?? Date.now;
  let ttl = o.tokenTtlMs ?? OAUTH_DEFAULTS.tokenTtlMs;
  const secrets = new Map(Object.entries(o.clients ?? { [OAUTH_DEFAULTS.clientId]: OAUTH_DEFAULTS.clientSecret }));
  const tokens = new Map<string, Issued>();
  const refreshTokens = new Map<string, { clientId: string; scope: string | undefined }>();
  const stats: OAuthStats = { tokenRequests: 0, issued: 0, refused: 0, byGrant: {}, rejectedAtSystems: 0 };

  const mint = (prefix: string) => `${prefix}_${randomBytes(18).toString('base64url')}`;

  const issue = (clientId: string, grant: string, scope: string | undefined, rotate: boolean) => {
    const at = now();
    // drop the expired ones now and then, so a long-lived sandbox keeps few
    if (tokens.size > 1000) for (const [t, v] of tokens) if (v.expiresAt <= at) tokens.delete(t);
    const access = mint('sbx');
    tokens.set(access, { clientId, expiresAt: at + ttl });
    stats.issued++;
    stats.byGrant[grant] = (stats.byGrant[grant] ?? 0) + 1;
    const body: Record<string, unknown> = {
      access_token: access,
      token_type: 'Bearer',
      expires_in: Math.max(1, Math.round(ttl / 1000)),
    };
    if (scope) body.scope = scope;
    if (rotate) {
      const refresh = mint('sbr');
      refreshTokens.set(refresh, { clientId, scope });
      body.refresh_token = refresh;
    }
    return body;
  };

  const revoke = (clientId: string) => {
    secrets.delete(clientId);
    for (const [t, v] of tokens) if (v.clientId === clientId) tokens.delete(t);
    for (const [t, v] of refreshTokens) if (v.clientId === clientId) refreshTokens.delete(t);
  };

  const app = new Hono();
  app.post('/token', async (c) => {
    stats.tokenRequests++;
    const refuse = (status: 400 | 401, error: string, description: string) => {
      stats.refused++;
      return c.json({ error, error_description: description }, status);
    };
    const form = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>);
    const field = (name: string) => (typeof form[name] === 'string' ? (form[name] as string) : undefined);
    let clientId = field('client_id');
    let secret = field('client_secret');
    const basic = /^Basic\s+(.+)$/i.exec(c.req.header('authorization') ?? '');
    if (basic) {
      const decoded = Buffer.from(basic[1] as string, 'base64').toString();
      const colon = decoded.indexOf(':');
      clientId = decodeURIComponent(decoded.slice(0, colon));
      secret = decodeURIComponent(decoded.slice(colon + 1));
    }
    if (!clientId || secret === undefined || secrets.get(clientId) !== secret)
      return refuse(401, 'invalid_client', `client "${clientId ?? ''}": unknown client, or wrong or revoked secret`);
    const grant = field('grant_type');
    if (grant === 'client_credentials') return c.json(issue(clientId, grant, field('scope'), false));
    if (grant === 'refresh_token') {
      const given = field('refresh_token') ?? '';
      const known = refreshTokens.get(given);
      if (!known || known.clientId !== clientId)
        return refuse(400, 'invalid_grant', 'the refresh token is unknown, used already or revoked');
      refreshTokens.delete(given); // rotated: the old one works once
      return c.json(issue(clientId, grant, known.scope, true));
    }
    return refuse(400, 'unsupported_grant_type', `grant_type: "${grant ?? ''}" is not supported`);
  });
  app.get('/_sandbox/stats', (c) => c.json(stats));
  app.put('/_sandbox/clients/:id', async (c) => {
    const body = (await c.req.json().catch(() => ({}))) as { secret?: unknown; revoked?: unknown };
    if (body.revoked === true) revoke(c.req.param('id'));
    else if (typeof body.secret === 'string' && body.secret !== '') secrets.set(c.req.param('id'), body.secret);
    else return c.json({ error: { code: 'bad_body', message: 'give {"revoked": true} or {"secret": "…"}' } }, 400);
    return c.body(null, 204);
  });

  return {
    app,
    accepts: (token) => {
      const found = tokens.get(token);
      const valid = found !== undefined && found.expiresAt > now();
      if (!valid) stats.rejectedAtSystems++;
      return valid;
    },
    stats: () => structuredClone(stats),
    revoke,
    setSecret: (clientId, secret) => {
      secrets.set(clientId, secret);
    },
    issueRefreshToken: (clientId, scope) => {
      const refresh = mint('sbr');
      refreshTokens.set(refresh, { clientId, scope });
      return refresh;
    },
    liveRefreshTokens: () => [...refreshTokens.keys()],
    setTokenTtl: (ms) => {
      ttl = ms;
    },
  };
}
