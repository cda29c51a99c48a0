import { createHash } from 'node:crypto';
import type { ConnectionCheck, Connectors, HttpClient, RequestOrigin, ResolvedConnection } from '@sluice/engine';
// the API's shapes of a connection are the contract's
import type { ConnectionInput, ConnectionPatch, ConnectionView, OAuth2Settings } from '@sluice/shared';
import { parseSqlUrl, type SqlConnectionConfig, sqlKindOf } from '../connectors/sql/index.js';
import { type CheckResult, checkConnection } from '../connectors.js';
import { ConflictError, InvalidError, notFound } from '../errors.js';
import type { ConnectionRow, ConnectionRows } from '../storage/port.js';
import type { Sealer } from './keyring.js';
import { OAuth2TokenSource } from './oauth2.js';
import { maskSecret } from './secrets.js';

/**
 * Connections to outside systems: stored ones (secrets sealed with AES-256-GCM) and the built-in
 * sandbox ones. The engine looks connections up synchronously, so a run's connections are loaded
 * (`preload`) before it starts and `connectors()` answers from what was loaded: a connection changed
 * while a run goes on is picked up by the next run. The API sees secrets masked only.
 */
export class ConnectionRepository {
  private readonly builtIn: Map<string, ResolvedConnection>;
  /** Stored connections resolved (null: none of that name), until changed or deleted. */
  private readonly resolved = new Map<string, ResolvedConnection | null>();
  /** Stored database connections, as loaded with `resolved` (password opened). */
  private readonly databases = new Map<string, SqlConnectionConfig>();
  /** Checks a database connection (`SELECT 1`; a refused login: status 401); none: database connections cannot be checked. */
  private sqlCheck: ((name: string) => Promise<ConnectionCheck>) | undefined;
  /** The fetch OAuth2 token requests go through (the server's, behind the outbound guard); Node's when none. */
  private tokenFetch: typeof fetch | undefined;
  /**
   * OAuth2 connections' token sources, kept across runs (a token outlives a run) while the stored
   * settings, client secret and refresh token are those they were made with (`stamp`).
   */
  private readonly tokenSources = new Map<string, { stamp: string; source: OAuth2TokenSource }>();

  constructor(
    private readonly rows: ConnectionRows,
    private readonly box: Sealer,
    builtIn: readonly ResolvedConnection[],
    private readonly now: () => number = Date.now,
  ) {
    this.builtIn = new Map(builtIn.map((c) => [c.name, c]));
  }

  /** Gives the repository the status check of database connections (the SQL port's). */
  useSqlCheck(check: (name: string) => Promise<ConnectionCheck>): void {
    this.sqlCheck = check;
  }

  /** Gives the repository the fetch its OAuth2 connections' token requests use (the server's guarded one). */
  useTokenFetch(fetch: typeof globalThis.fetch): void {
    this.tokenFetch = fetch;
  }

  /** A database connection as loaded for a run (see `preload`), for the SQL port; undefined otherwise. */
  sqlConfig(connectionName: string): SqlConnectionConfig | undefined {
    return this.databases.get(connectionName);
  }

  async list(): Promise<ConnectionView[]> {
    const stored = await Promise.all((await this.rows.list()).map((r) => this.view(r)));
    const builtIn = [...this.builtIn.values()].map((c) => this.builtInView(c));
    return [...builtIn, ...stored];
  }

  async get(connectionName: string): Promise<ConnectionView> {
    const b = this.builtIn.get(connectionName);
    if (b) return this.builtInView(b);
    return this.view(await this.row(connectionName));
  }

  async create(input: ConnectionInput): Promise<ConnectionView> {
    if (this.builtIn.has(input.name) || (await this.rows.find(input.name)))
      throw new ConflictError('exists', `name: a connection named "${input.name}" already exists`, { path: 'name' });
    checkAuth(input);
    checkDatabaseInput(input);
    // two creates of one name racing: the store refuses the second the same way
    await this.rows.insert(
      {
        name: input.name,
        baseUrl: input.baseUrl,
        auth: input.auth,
        username: input.username ?? null,
        headerName: input.headerName ?? null,
        secret: input.secret === undefined ? null : await this.box.seal(input.secret),
        checkPath: input.checkPath ?? null,
        breakerThreshold: input.breaker?.failureThreshold ?? null,
        breakerCooldownMs: input.breaker?.cooldownMs ?? null,
        limitMaxConcurrent: input.limits?.maxConcurrent ?? null,
        limitMaxPerSecond: input.limits?.maxPerSecond ?? null,
        limitAdaptive: input.limits?.adaptive ?? false,
        oauth2: input.oauth2 ? JSON.stringify(input.oauth2) : null,
        refreshToken: input.refreshToken === undefined ? null : await this.box.seal(input.refreshToken),
      },
      this.now(),
    );
    this.resolved.delete(input.name);
    return this.get(input.name);
  }

  async update(connectionName: string, patch: ConnectionPatch): Promise<ConnectionView> {
    this.assertStored(connectionName);
    const row = await this.row(connectionName);
    const next: ConnectionInput = {
      name: connectionName,
      baseUrl: patch.baseUrl ?? row.baseUrl,
      auth: patch.auth ?? row.auth,
      ...(patch.username !== undefined || row.username ? { username: patch.username ?? (row.username as string) } : {}),
      ...(patch.headerName !== undefined || row.headerName
        ? { headerName: patch.headerName ?? (row.headerName as string) }
        : {}),
    };
    // OAuth2 settings and the refresh token are kept while the auth stays oauth2, and go with it
    const keepOAuth = next.auth === 'oauth2';
    const oauth2 = patch.oauth2 ? JSON.stringify(patch.oauth2) : keepOAuth ? row.oauth2 : null;
    if (oauth2) next.oauth2 = JSON.parse(oauth2) as OAuth2Settings;
    const secret =
      patch.secret === undefined ? row.secret : patch.secret === null ? null : await this.box.seal(patch.secret);
    const refreshToken =
      patch.refreshToken === undefined
        ? keepOAuth
          ? row.refreshToken
          : null
        : patch.refreshToken === null
          ? null
          : await this.box.seal(patch.refreshToken);
    checkAuth({
      ...next,
      ...(secret ? { secret: 'stored' } : {}),
      ...(refreshToken ? { refreshToken: 'stored' } : {}),
    });
    checkDatabaseInput(next);
    const breaker =
      patch.breaker ??
      (row.breakerThreshold
        ? { failureThreshold: row.breakerThreshold, cooldownMs: row.breakerCooldownMs ?? 30_000 }
        : undefined);
    // limits are replaced as a whole (a key left out removes that limit); no `limits`: kept
    const limits = patch.limits
      ? {
          maxConcurrent: patch.limits.maxConcurrent ?? null,
          maxPerSecond: patch.limits.maxPerSecond ?? null,
          adaptive: patch.limits.adaptive ?? false,
        }
      : { maxConcurrent: row.limitMaxConcurrent, maxPerSecond: row.limitMaxPerSecond, adaptive: row.limitAdaptive };
    await this.rows.update(
      {
        name: connectionName,
        baseUrl: next.baseUrl,
        auth: next.auth,
        username: next.username ?? null,
        headerName: next.headerName ?? null,
        secret,
        checkPath: patch.checkPath ?? row.checkPath,
        breakerThreshold: breaker?.failureThreshold ?? null,
        breakerCooldownMs: breaker?.cooldownMs ?? null,
        limitMaxConcurrent: limits.maxConcurrent,
        limitMaxPerSecond: limits.maxPerSecond,
        limitAdaptive: limits.adaptive,
        oauth2,
        refreshToken,
      },
      this.now(),
    );
    this.resolved.delete(connectionName);
    return this.get(connectionName);
  }

  async delete(connectionName: string): Promise<void> {
    this.assertStored(connectionName);
    await this.row(connectionName);
    await this.rows.delete(connectionName);
    this.resolved.delete(connectionName);
    this.tokenSources.delete(connectionName);
  }

  /** Resolves a connection for a run: base URL and the headers that authenticate (secret decrypted here only). */
  async resolve(connectionName: string): Promise<ResolvedConnection | undefined> {
    if (!this.builtIn.has(connectionName) && !this.resolved.has(connectionName)) await this.load(connectionName);
    return this.loaded(connectionName);
  }

  /**
   * Loads the stored connections named, afresh (another process may have changed one), so that
   * `connectors().connection` finds them. The runner calls it before a run starts.
   */
  async preload(names: Iterable<string>): Promise<void> {
    for (const name of new Set(names)) if (!this.builtIn.has(name)) await this.load(name);
  }

  private async load(name: string): Promise<void> {
    const row = await this.rows.find(name);
    this.resolved.set(name, row ? await this.toResolved(row) : null);
    const database = row ? await this.databaseOf(row) : undefined;
    if (database) this.databases.set(name, database);
    else this.databases.delete(name);
  }

  private async databaseOf(row: ConnectionRow): Promise<SqlConnectionConfig | undefined> {
    const parsed = sqlKindOf(row.baseUrl) ? parseSqlUrl(row.baseUrl) : undefined;
    if (!parsed || typeof parsed === 'string') return undefined;
    const password = row.secret === null ? undefined : await this.box.open(row.secret);
    return { ...parsed, user: row.username ?? '', ...(password !== undefined ? { password } : {}) };
  }

  /** A connection as loaded: built in, or stored and preloaded; undefined otherwise. */
  private loaded(connectionName: string): ResolvedConnection | undefined {
    return this.builtIn.get(connectionName) ?? this.resolved.get(connectionName) ?? undefined;
  }

  /**
   * The connectors runs use: this repository's connections over an HTTP client, looked up among those
   * loaded (the runner preloads a run's before it starts). Their `check` is the status check below (so
   * a run's check before it starts also updates the connection's status).
   */
  connectors(http: HttpClient): Connectors {
    return {
      http,
      connection: (n) => this.loaded(n),
      check: async (n, signal, origin) => {
        if (!(await this.resolve(n))) return { ok: false, message: `no connection named "${n}"` };
        const { state: _, ...result } = await this.probe(n, http, signal, origin);
        return result;
      },
    };
  }

  /**
   * Calls the system (GET base URL + check path, authenticated) and stores what came back:
   * `ok` for 2xx, `unauthorized` for 401/403, `error` otherwise or when it cannot be reached.
   */
  async check(connectionName: string, http: HttpClient): Promise<ConnectionView['status']> {
    const { state, message } = await this.probe(connectionName, http);
    if (this.builtIn.has(connectionName)) return { state, message, checkedAt: new Date(this.now()).toISOString() };
    return (await this.get(connectionName)).status;
  }

  /** Checks the connection against its system; the status of a stored connection is kept. */
  private async probe(
    connectionName: string,
    http: HttpClient,
    signal?: AbortSignal,
    origin?: RequestOrigin,
  ): Promise<CheckResult> {
    const view = await this.get(connectionName);
    const conn = (await this.resolve(connectionName)) as ResolvedConnection;
    const result = sqlKindOf(conn.baseUrl)
      ? await this.checkDatabase(connectionName)
      : await checkConnection(http, conn, view.checkPath ?? conn.checkPath, signal, origin);
    if (!view.builtIn) await this.rows.setStatus(connectionName, result.state, result.message, this.now());
    return result;
  }

  /**
   * The token source of an OAuth2 connection: the one made before while the row's settings and
   * credentials are unchanged (so its token serves the next run too), else a new one.
   */
  private async tokenSource(row: ConnectionRow, secret: string | undefined): Promise<OAuth2TokenSource> {
    const refreshToken = row.refreshToken === null ? undefined : await this.box.open(row.refreshToken);
    // by what the values are, not how they are sealed: a secret rotation re-seals them, and the token
    // already obtained stays good
    const stampOf = (refresh: string | undefined) =>
      createHash('sha256')
        .update(JSON.stringify([row.baseUrl, row.oauth2, secret ?? null, refresh ?? null]))
        .digest('hex');
    const stamp = stampOf(refreshToken);
    const kept = this.tokenSources.get(row.name);
    if (kept?.stamp === stamp) return kept.source;
    const entry = { stamp, source: undefined as unknown as OAuth2TokenSource };
    entry.source = new OAuth2TokenSource({
      name: row.name,
      settings: JSON.parse(row.oauth2 ?? '{}') as OAuth2Settings,
      clientSecret: secret,
      refreshToken,
      ...(this.tokenFetch ? { fetch: this.tokenFetch } : {}),
      saveRefreshToken: async (token) => {
        const sealed = await this.box.seal(token);
        await this.rows.setRefreshToken(row.name, sealed, this.now());
        // the row now holds the token this source already has: it stays the connection's source
        entry.stamp = stampOf(token);
      },
    });
    this.tokenSources.set(row.name, entry);
    return entry.source;
  }

  /** `SELECT 1` as the connection: ok, or error with the database's reason. */
  private async checkDatabase(connectionName: string): Promise<CheckResult> {
    if (!this.sqlCheck) return { ok: false, state: 'error', message: 'this server cannot reach databases' };
    await this.load(connectionName); // the check uses what is stored now
    const { ok, status, message } = await this.sqlCheck(connectionName);
    return { ok, state: ok ? 'ok' : status === 401 ? 'unauthorized' : 'error', message, ...(status ? { status } : {}) };
  }

  private async toResolved(row: ConnectionRow): Promise<ResolvedConnection> {
    const secret = row.secret === null ? undefined : await this.box.open(row.secret);
    const auth = row.auth === 'oauth2' && row.oauth2 ? await this.tokenSource(row, secret) : undefined;
    const headers: Record<string, string> = {};
    if (row.auth === 'bearer' && secret) headers.authorization = `Bearer ${secret}`;
    if (row.auth === 'basic')
      headers.authorization = `Basic ${Buffer.from(`${row.username ?? ''}:${secret ?? ''}`).toString('base64')}`;
    if (row.auth === 'api-key' && secret) headers[(row.headerName ?? 'x-api-key').toLowerCase()] = secret;
    return {
      name: row.name,
      baseUrl: row.baseUrl,
      headers,
      ...(auth ? { auth } : {}),
      ...(row.breakerThreshold
        ? { breaker: { failureThreshold: row.breakerThreshold, cooldownMs: row.breakerCooldownMs ?? 30_000 } }
        : {}),
      ...(row.limitMaxConcurrent !== null || row.limitMaxPerSecond !== null || row.limitAdaptive
        ? {
            limits: {
              ...(row.limitMaxConcurrent !== null ? { maxConcurrent: row.limitMaxConcurrent } : {}),
              ...(row.limitMaxPerSecond !== null ? { maxPerSecond: row.limitMaxPerSecond } : {}),
              ...(row.limitAdaptive ? { adaptive: true } : {}),
            },
          }
        : {}),
    };
  }

  private async view(r: ConnectionRow): Promise<ConnectionView> {
    const secret = r.secret === null ? null : maskSecret(await this.box.open(r.secret));
    const refreshToken = r.refreshToken === null ? null : maskSecret(await this.box.open(r.refreshToken));
    return {
      name: r.name,
      baseUrl: r.baseUrl,
      auth: r.auth,
      username: r.username,
      headerName: r.headerName,
      secret,
      checkPath: r.checkPath,
      breaker: r.breakerThreshold
        ? { failureThreshold: r.breakerThreshold, cooldownMs: r.breakerCooldownMs ?? 30_000 }
        : null,
      limits: { maxConcurrent: r.limitMaxConcurrent, maxPerSecond: r.limitMaxPerSecond, adaptive: r.limitAdaptive },
      oauth2: r.oauth2 ? oauth2View(JSON.parse(r.oauth2) as OAuth2Settings) : null,
      refreshToken,
      builtIn: false,
      status:
        r.lastStatus === null
          ? null
          : {
              state: r.lastStatus,
              message: r.lastStatusMessage,
              checkedAt: new Date(r.lastCheckedAt ?? 0).toISOString(),
            },
    };
  }

  private builtInView(c: ResolvedConnection): ConnectionView {
    const auth = c.headers.authorization?.split(' ')[1];
    return {
      name: c.name,
      baseUrl: c.baseUrl,
      auth: c.headers.authorization ? 'bearer' : 'none',
      username: null,
      headerName: null,
      secret: auth ? maskSecret(auth) : null,
      checkPath: null,
      breaker: c.breaker ?? null,
      limits: {
        maxConcurrent: c.limits?.maxConcurrent ?? null,
        maxPerSecond: c.limits?.maxPerSecond ?? null,
        adaptive: c.limits?.adaptive ?? false,
      },
      oauth2: null,
      refreshToken: null,
      builtIn: true,
      status: null,
    };
  }

  private async row(connectionName: string): Promise<ConnectionRow> {
    const row = await this.rows.find(connectionName);
    if (!row) throw notFound('connection', connectionName);
    return row;
  }

  private assertStored(connectionName: string): void {
    if (this.builtIn.has(connectionName))
      throw new ConflictError('built_in', `connection "${connectionName}" is built in and cannot be changed`);
  }
}

/** A database connection: a URL that names host and database, and a user to connect as (basic auth). */
function checkDatabaseInput(c: Pick<ConnectionInput, 'baseUrl' | 'auth' | 'username'>): void {
  if (!sqlKindOf(c.baseUrl)) return;
  const parsed = parseSqlUrl(c.baseUrl);
  if (typeof parsed === 'string') throw new InvalidError('bad_request', `baseUrl: ${parsed}`, { path: 'baseUrl' });
  if (c.auth !== 'basic')
    throw new InvalidError(
      'bad_request',
      'auth: a database connection takes basic (username, and the password as secret)',
      {
        path: 'auth',
      },
    );
}

function oauth2View(o: OAuth2Settings): NonNullable<ConnectionView['oauth2']> {
  return {
    grant: o.grant,
    tokenUrl: o.tokenUrl,
    clientId: o.clientId,
    scopes: o.scopes ?? null,
    audience: o.audience ?? null,
    clientAuth: o.clientAuth ?? 'basic',
  };
}

function checkAuth(
  c: Pick<ConnectionInput, 'auth' | 'username' | 'headerName' | 'secret' | 'oauth2' | 'refreshToken'>,
): void {
  if (c.auth !== 'oauth2') {
    const stray = c.oauth2 ? 'oauth2' : c.refreshToken ? 'refreshToken' : undefined;
    if (stray)
      throw new InvalidError('bad_request', `${stray}: only for oauth2 auth (this connection's auth is ${c.auth})`, {
        path: stray,
      });
  }
  if (c.auth === 'oauth2') {
    if (!c.oauth2)
      throw new InvalidError('bad_request', 'oauth2: required for oauth2 auth (token URL, client id)', {
        path: 'oauth2',
      });
    if (c.oauth2.grant === 'client_credentials' && !c.secret)
      throw new InvalidError('bad_request', 'secret: required for oauth2 client credentials (the client secret)', {
        path: 'secret',
      });
    if (c.oauth2.grant === 'refresh_token' && !c.refreshToken)
      throw new InvalidError('bad_request', 'refreshToken: required for the oauth2 refresh_token grant', {
        path: 'refreshToken',
      });
  }
  if (c.auth === 'basic' && !c.username)
    throw new InvalidError('bad_request', 'username: required for basic auth', { path: 'username' });
  if ((c.auth === 'bearer' || c.auth === 'api-key') && !c.secret)
    throw new InvalidError('bad_request', `secret: required for ${c.auth} auth`, { path: 'secret' });
  if (c.auth === 'api-key' && !c.headerName)
    throw new InvalidError('bad_request', 'headerName: required for api-key auth (e.g. X-API-Key)', {
      path: 'headerName',
    });
}
