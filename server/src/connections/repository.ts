import type { Connectors, HttpClient, ResolvedConnection } from '@sluice/engine';
// the API's shapes of a connection are the contract's
import type { AUTH_TYPES, ConnectionInput, ConnectionPatch, ConnectionView } from '@sluice/shared';
import type Database from 'better-sqlite3';
import { type CheckResult, checkConnection } from '../connectors.js';
import { ConflictError, InvalidError, notFound } from '../errors.js';
import type { Db } from '../storage/sqlite/open.js';
import { maskSecret, type SecretBox } from './secrets.js';

interface Row {
  name: string;
  base_url: string;
  auth_type: (typeof AUTH_TYPES)[number];
  username: string | null;
  header_name: string | null;
  secret: string | null;
  check_path: string | null;
  breaker_threshold: number | null;
  breaker_cooldown_ms: number | null;
  last_status: string | null;
  last_status_message: string | null;
  last_checked_at: number | null;
}

/**
 * Connections to outside systems: stored ones (secrets sealed with AES-256-GCM) and the built-in
 * sandbox ones. Runs resolve them by name through `connectors()`; the API sees secrets masked only.
 */
export class ConnectionRepository {
  private readonly c: Database.Database;
  private readonly builtIn: Map<string, ResolvedConnection>;
  private readonly resolved = new Map<string, ResolvedConnection | null>();

  constructor(
    db: Db,
    private readonly box: SecretBox,
    builtIn: readonly ResolvedConnection[],
    private readonly now: () => number = Date.now,
  ) {
    this.c = db.$client;
    this.builtIn = new Map(builtIn.map((c) => [c.name, c]));
  }

  list(): ConnectionView[] {
    const stored = (this.c.prepare('SELECT * FROM connections ORDER BY name').all() as Row[]).map((r) => this.view(r));
    const builtIn = [...this.builtIn.values()].map((c) => this.builtInView(c));
    return [...builtIn, ...stored];
  }

  get(connectionName: string): ConnectionView {
    const b = this.builtIn.get(connectionName);
    if (b) return this.builtInView(b);
    return this.view(this.row(connectionName));
  }

  create(input: ConnectionInput): ConnectionView {
    if (this.builtIn.has(input.name) || this.find(input.name))
      throw new ConflictError('exists', `name: a connection named "${input.name}" already exists`, { path: 'name' });
    checkAuth(input);
    const at = this.now();
    this.c
      .prepare(
        `INSERT INTO connections (name, base_url, auth_type, username, header_name, secret, check_path,
           breaker_threshold, breaker_cooldown_ms, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        input.name,
        input.baseUrl,
        input.auth,
        input.username ?? null,
        input.headerName ?? null,
        input.secret === undefined ? null : this.box.seal(input.secret),
        input.checkPath ?? null,
        input.breaker?.failureThreshold ?? null,
        input.breaker?.cooldownMs ?? null,
        at,
        at,
      );
    this.resolved.delete(input.name);
    return this.get(input.name);
  }

  update(connectionName: string, patch: ConnectionPatch): ConnectionView {
    this.assertStored(connectionName);
    const row = this.row(connectionName);
    const next: ConnectionInput = {
      name: connectionName,
      baseUrl: patch.baseUrl ?? row.base_url,
      auth: patch.auth ?? row.auth_type,
      ...(patch.username !== undefined || row.username ? { username: patch.username ?? (row.username as string) } : {}),
      ...(patch.headerName !== undefined || row.header_name
        ? { headerName: patch.headerName ?? (row.header_name as string) }
        : {}),
    };
    const secret = patch.secret === undefined ? row.secret : patch.secret === null ? null : this.box.seal(patch.secret);
    checkAuth({ ...next, ...(secret ? { secret: 'stored' } : {}) });
    const breaker =
      patch.breaker ??
      (row.breaker_threshold
        ? { failureThreshold: row.breaker_threshold, cooldownMs: row.breaker_cooldown_ms ?? 30_000 }
        : undefined);
    this.c
      .prepare(
        `UPDATE connections SET base_url = ?, auth_type = ?, username = ?, header_name = ?, secret = ?, check_path = ?,
           breaker_threshold = ?, breaker_cooldown_ms = ?, updated_at = ? WHERE name = ?`,
      )
      .run(
        next.baseUrl,
        next.auth,
        next.username ?? null,
        next.headerName ?? null,
        secret,
        patch.checkPath ?? row.check_path,
        breaker?.failureThreshold ?? null,
        breaker?.cooldownMs ?? null,
        this.now(),
        connectionName,
      );
    this.resolved.delete(connectionName);
    return this.get(connectionName);
  }

  delete(connectionName: string): void {
    this.assertStored(connectionName);
    this.row(connectionName);
    this.c.prepare('DELETE FROM connections WHERE name = ?').run(connectionName);
    this.resolved.delete(connectionName);
  }

  /** Resolves a connection for a run: base URL and the headers that authenticate (secret decrypted here only). */
  resolve(connectionName: string): ResolvedConnection | undefined {
    const b = this.builtIn.get(connectionName);
    if (b) return b;
    const cached = this.resolved.get(connectionName);
    if (cached !== undefined) return cached ?? undefined;
    const row = this.find(connectionName);
    const resolved = row ? this.toResolved(row) : null;
    this.resolved.set(connectionName, resolved);
    return resolved ?? undefined;
  }

  /**
   * The connectors runs use: this repository's connections over an HTTP client. Their `check` is
   * the status check below (so a run's check before it starts also updates the connection's status).
   */
  connectors(http: HttpClient): Connectors {
    return {
      http,
      connection: (n) => this.resolve(n),
      check: async (n, signal) => {
        if (!this.resolve(n)) return { ok: false, message: `no connection named "${n}"` };
        const { state: _, ...result } = await this.probe(n, http, signal);
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
    return this.get(connectionName).status;
  }

  /** Checks the connection against its system; the status of a stored connection is kept. */
  private async probe(connectionName: string, http: HttpClient, signal?: AbortSignal): Promise<CheckResult> {
    const view = this.get(connectionName);
    const conn = this.resolve(connectionName) as ResolvedConnection;
    const result = await checkConnection(http, conn, view.checkPath ?? conn.checkPath, signal);
    if (!view.builtIn) {
      this.c
        .prepare('UPDATE connections SET last_status = ?, last_status_message = ?, last_checked_at = ? WHERE name = ?')
        .run(result.state, result.message, this.now(), connectionName);
    }
    return result;
  }

  private toResolved(row: Row): ResolvedConnection {
    const secret = row.secret === null ? undefined : this.box.open(row.secret);
    const headers: Record<string, string> = {};
    if (row.auth_type === 'bearer' && secret) headers.authorization = `Bearer ${secret}`;
    if (row.auth_type === 'basic')
      headers.authorization = `Basic ${Buffer.from(`${row.username ?? ''}:${secret ?? ''}`).toString('base64')}`;
    if (row.auth_type === 'api-key' && secret) headers[(row.header_name ?? 'x-api-key').toLowerCase()] = secret;
    return {
      name: row.name,
      baseUrl: row.base_url,
      headers,
      ...(row.breaker_threshold
        ? { breaker: { failureThreshold: row.breaker_threshold, cooldownMs: row.breaker_cooldown_ms ?? 30_000 } }
        : {}),
    };
  }

  private view(r: Row): ConnectionView {
    return {
      name: r.name,
      baseUrl: r.base_url,
      auth: r.auth_type,
      username: r.username,
      headerName: r.header_name,
      secret: r.secret === null ? null : maskSecret(this.box.open(r.secret)),
      checkPath: r.check_path,
      breaker: r.breaker_threshold
        ? { failureThreshold: r.breaker_threshold, cooldownMs: r.breaker_cooldown_ms ?? 30_000 }
        : null,
      builtIn: false,
      status:
        r.last_status === null
          ? null
          : {
              state: r.last_status,
              message: r.last_status_message,
              checkedAt: new Date(r.last_checked_at ?? 0).toISOString(),
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
      builtIn: true,
      status: null,
    };
  }

  private find(connectionName: string): Row | undefined {
    return this.c.prepare('SELECT * FROM connections WHERE name = ?').get(connectionName) as Row | undefined;
  }

  private row(connectionName: string): Row {
    const row = this.find(connectionName);
    if (!row) throw notFound('connection', connectionName);
    return row;
  }

  private assertStored(connectionName: string): void {
    if (this.builtIn.has(connectionName))
      throw new ConflictError('built_in', `connection "${connectionName}" is built in and cannot be changed`);
  }
}

function checkAuth(c: Pick<ConnectionInput, 'auth' | 'username' | 'headerName' | 'secret'>): void {
  if (c.auth === 'basic' && !c.username)
    throw new InvalidError('bad_request', 'username: required for basic auth', { path: 'username' });
  if ((c.auth === 'bearer' || c.auth === 'api-key') && !c.secret)
    throw new InvalidError('bad_request', `secret: required for ${c.auth} auth`, { path: 'secret' });
  if (c.auth === 'api-key' && !c.headerName)
    throw new InvalidError('bad_request', 'headerName: required for api-key auth (e.g. X-API-Key)', {
      path: 'headerName',
    });
}
