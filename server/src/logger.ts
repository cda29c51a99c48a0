import { pino } from 'pino';
import pretty from 'pino-pretty';

/**
 * The server's logger: pino, one JSON object per line (pretty when written to a terminal). It is made
 * once by an entry point (`main.ts`, the CLI) or a test and handed down (`openSluice({ logger })`);
 * what logs about a run uses a child carrying the run's and flow's ids (and the node's, for a line
 * about one node).
 */
export type Logger = pino.Logger;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * Fields never written, at the top of a line or nested up to two levels (e.g. `req.headers.authorization`,
 * `connection.auth.secret`). A safety net: call sites log no headers, secrets or tokens in the first place.
 */
const SECRET_FIELDS = [
  'authorization',
  'cookie',
  'token',
  'apiToken',
  'firstToken',
  'secret',
  'password',
  'passphrase',
  'privateKey',
  'secretKey',
];
const SECRET_HEADERS = ['x-sluice-secret', 'x-api-key', 'proxy-authorization', 'set-cookie'];

export const REDACTED_PATHS = [
  ...SECRET_FIELDS.flatMap((f) => [f, `*.${f}`, `*.*.${f}`]),
  ...SECRET_HEADERS.flatMap((h) => [`headers["${h}"]`, `*.headers["${h}"]`]),
];

export interface LoggerOptions {
  level?: LogLevel;
  /** Where lines go (a test passes a buffer); by default stdout, or stderr with `stderr`. */
  destination?: NodeJS.WritableStream;
  /** Writes to stderr instead of stdout (the CLI, whose stdout is its output). */
  stderr?: boolean;
}

/** Makes a logger. Lines are JSON, except on a terminal (no destination given): there pino-pretty formats them. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const settings: pino.LoggerOptions = {
    level: options.level ?? 'info',
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  };
  if (options.destination) return pino(settings, options.destination);
  const fd = options.stderr ? 2 : 1;
  const tty = (options.stderr ? process.stderr : process.stdout).isTTY;
  // synchronous writes: a line written just before the process exits is not lost, and lines keep
  // their order with the plain output (the address to open) printed beside them
  if (tty)
    return pino(settings, pretty({ destination: fd, sync: true, colorize: true, translateTime: 'SYS:HH:MM:ss' }));
  return pino(settings, pino.destination({ dest: fd, sync: true }));
}

/** The level SLUICE_LOG_LEVEL names, else `fallback`; throws on a name that is not a level. */
export function logLevelFrom(env: NodeJS.ProcessEnv, fallback: LogLevel = 'info'): LogLevel {
  const raw = env.SLUICE_LOG_LEVEL?.trim().toLowerCase();
  if (!raw) return fallback;
  if (!(LOG_LEVELS as readonly string[]).includes(raw))
    throw new Error(`SLUICE_LOG_LEVEL: must be one of ${LOG_LEVELS.join(', ')} (got "${env.SLUICE_LOG_LEVEL}")`);
  return raw as LogLevel;
}
