import { AuthRefused, type ConnectionAuth, HttpFailure } from '@sluice/engine';
import type { OAuth2Settings } from '@sluice/shared';
import * as oauth from 'oauth4webapi';

export interface OAuth2SourceOptions {
  /** The connection's name, for messages. */
  name: string;
  settings: OAuth2Settings;
  clientSecret?: string | undefined;
  refreshToken?: string | undefined;
  /** Keeps a refresh token the endpoint rotated to; called before the new access token is used. */
  saveRefreshToken(token: string): Promise<void>;
  now?: () => number;
  /** The fetch the token requests use (tests, or a pooled client); Node's by default. */
  fetch?: typeof fetch;
}

/** Longest time a token is renewed ahead of its expiry; shorter lifetimes renew a tenth of theirs ahead. */
const MAX_MARGIN_MS = 30_000;
const TOKEN_TIMEOUT_MS = 10_000;
/** Errors of the token endpoint that say the connection's credentials are refused, not that it is down. */
const REFUSALS = new Set(['invalid_client', 'invalid_grant', 'unauthorized_client', 'invalid_scope', 'access_denied']);

/**
 * A connection's OAuth2 access tokens (client credentials, or a refresh token), obtained with
 * oauth4webapi when a request needs one and kept until their expiry minus a margin (a tenth of the
 * lifetime, at most 30 s), so the token endpoint is asked once per lifetime, not once per request.
 * Requests that need a token while one is being fetched wait for that one. A refresh token the
 * endpoint rotates is saved before the new access token is used.
 */
export class OAuth2TokenSource implements ConnectionAuth {
  private token: { value: string; renewAt: number } | undefined;
  private pending: Promise<string> | undefined;
  private refreshToken: string | undefined;
  private readonly as: oauth.AuthorizationServer;
  private readonly client: oauth.Client;
  private readonly now: () => number;
  /** Token requests sent (for tests and the curious). */
  requests = 0;

  constructor(private readonly o: OAuth2SourceOptions) {
    const url = new URL(o.settings.tokenUrl);
    this.as = { issuer: url.origin, token_endpoint: url.href };
    this.client = { client_id: o.settings.clientId };
    this.refreshToken = o.refreshToken;
    this.now = o.now ?? Date.now;
  }

  async headers(signal?: AbortSignal): Promise<Record<string, string>> {
    const token = this.token;
    if (token && this.now() < token.renewAt) return { authorization: `Bearer ${token.value}` };
    if (!this.pending) {
      this.pending = this.fetchToken().finally(() => {
        this.pending = undefined;
      });
      // its failure is each waiting request's to handle; if every one of them has stopped waiting, nobody's
      this.pending.catch(() => {});
    }
    // the fetch is shared by every request waiting for it: a run that stops leaves it, not ends it
    return { authorization: `Bearer ${await (signal ? abandonedOn(this.pending, signal) : this.pending)}` };
  }

  invalidate(used: Record<string, string>): void {
    if (this.token && used.authorization === `Bearer ${this.token.value}`) this.token = undefined;
  }

  private async fetchToken(): Promise<string> {
    const { settings } = this.o;
    const startedAt = this.now();
    const options: oauth.TokenEndpointRequestOptions = {
      signal: AbortSignal.timeout(TOKEN_TIMEOUT_MS),
      // a token endpoint on plain http (a sandbox, a system on the same host) is the user's choice
      [oauth.allowInsecureRequests]: this.as.token_endpoint?.startsWith('http:') ?? false,
      ...(this.o.fetch ? { [oauth.customFetch]: this.o.fetch } : {}),
    };
    const secret = this.o.clientSecret;
    const auth = !secret
      ? oauth.None()
      : settings.clientAuth === 'post'
        ? oauth.ClientSecretPost(secret)
        : oauth.ClientSecretBasic(secret);
    const extra: Record<string, string> = {};
    if (settings.scopes) extra.scope = settings.scopes;
    if (settings.audience) extra.audience = settings.audience;
    this.requests++;
    let result: oauth.TokenEndpointResponse;
    try {
      if (settings.grant === 'refresh_token') {
        if (!this.refreshToken) throw new AuthRefused(`connection "${this.o.name}": no refresh token stored`, 400);
        const response = await oauth.refreshTokenGrantRequest(this.as, this.client, auth, this.refreshToken, {
          ...options,
          additionalParameters: extra,
        });
        result = await oauth.processRefreshTokenResponse(this.as, this.client, response);
        if (result.refresh_token && result.refresh_token !== this.refreshToken) {
          this.refreshToken = result.refresh_token;
          await this.o.saveRefreshToken(result.refresh_token);
        }
      } else {
        const response = await oauth.clientCredentialsGrantRequest(this.as, this.client, auth, extra, options);
        result = await oauth.processClientCredentialsResponse(this.as, this.client, response);
      }
    } catch (err) {
      throw this.failure(err);
    }
    const lifetime = typeof result.expires_in === 'number' ? result.expires_in * 1000 : undefined;
    // a token without a stated lifetime is kept until a system refuses it
    const renewAt =
      lifetime === undefined ? Number.POSITIVE_INFINITY : startedAt + lifetime - Math.min(MAX_MARGIN_MS, lifetime / 10);
    this.token = { value: result.access_token, renewAt };
    return result.access_token;
  }

  /** What a failed token request means: refused credentials (`AuthRefused`), or an endpoint that cannot answer. */
  private failure(err: unknown): Error {
    if (err instanceof AuthRefused) return err;
    const where = `token endpoint of connection "${this.o.name}"`;
    // the outbound guard would not send it: final, and its message names the rule
    if (err instanceof HttpFailure && err.code === 'refused')
      return new HttpFailure(`the ${where}: ${err.message}`, 'refused');
    if (err instanceof oauth.ResponseBodyError) {
      const said = `${err.error}${err.error_description ? `: ${err.error_description}` : ''}`;
      if (REFUSALS.has(err.error) || err.status === 401)
        return new AuthRefused(`the ${where} refused the credentials (HTTP ${err.status}, ${said})`, err.status);
      return new HttpFailure(`the ${where} answered HTTP ${err.status} (${said})`, 'network');
    }
    if (err instanceof oauth.WWWAuthenticateChallengeError)
      return new AuthRefused(`the ${where} refused the credentials (HTTP ${err.status})`, err.status);
    if ((err as Error).name === 'TimeoutError')
      return new HttpFailure(`no answer from the ${where} within ${TOKEN_TIMEOUT_MS} ms`, 'timeout');
    const cause = (err as { cause?: { code?: string } }).cause;
    return new HttpFailure(`the ${where} failed: ${cause?.code ?? (err as Error).message}`, 'network');
  }
}

/** The promise, or a rejection as soon as `signal` aborts (the promise itself goes on). */
function abandonedOn<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new HttpFailure('request aborted', 'aborted'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new HttpFailure('request aborted', 'aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
