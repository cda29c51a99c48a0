/**
 * Where a SQL connection points, as stored: the connection's URL (`postgres://host:port/database` or
 * `mysql://host:port/database`, with `?tls=off|require|verify`), its user name and its sealed
 * password, opened only to connect.
 */
export type SqlKind = 'postgres' | 'mysql';

export const TLS_MODES = ['off', 'require', 'verify'] as const;
export type TlsMode = (typeof TLS_MODES)[number];

export interface SqlConnectionConfig {
  kind: SqlKind;
  host: string;
  port: number;
  database: string;
  user: string;
  password?: string;
  /** off: plain; require: encrypted, certificate not checked; verify: encrypted and checked. */
  tls: TlsMode;
}

const DEFAULT_PORTS: Record<SqlKind, number> = { postgres: 5432, mysql: 3306 };

/** The kind a connection URL names, or undefined for an HTTP one. */
export function sqlKindOf(url: string): SqlKind | undefined {
  if (/^postgres(ql)?:\/\//i.test(url)) return 'postgres';
  if (/^mysql:\/\//i.test(url)) return 'mysql';
  return undefined;
}

/**
 * Reads a SQL connection URL. Returns the problem, naming the part at fault, when it is not one:
 * the API answers it as a 400 on `baseUrl`.
 */
export function parseSqlUrl(url: string): Omit<SqlConnectionConfig, 'user' | 'password'> | string {
  const kind = sqlKindOf(url);
  if (!kind) return 'must start with postgres:// or mysql://';
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'is not a URL (e.g. postgres://db.example:5432/sales)';
  }
  if (!parsed.hostname) return 'needs a host (e.g. postgres://db.example:5432/sales)';
  if (parsed.username || parsed.password) return 'must not hold a user or password: give them as username and secret';
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  if (!database || database.includes('/')) return 'needs a database name as its path (e.g. /sales)';
  const tls = parsed.searchParams.get('tls') ?? 'off';
  if (!(TLS_MODES as readonly string[]).includes(tls)) return `tls must be one of ${TLS_MODES.join(', ')}`;
  for (const name of parsed.searchParams.keys())
    if (name !== 'tls') return `unknown parameter "${name}" (only tls is read)`;
  return {
    kind,
    host: parsed.hostname.replace(/^\[|\]$/g, ''),
    port: parsed.port ? Number(parsed.port) : DEFAULT_PORTS[kind],
    database,
    tls: tls as TlsMode,
  };
}
