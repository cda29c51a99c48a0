import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ApiClient, type ConnectionInput, type ConnectionView, createApiClient } from '@sluice/shared';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The API token the test servers accept (given to them as SLUICE_API_TOKEN). */
export const TEST_TOKEN = 'e2e-test-token-0123456789';
export const authHeader = { authorization: `Bearer ${TEST_TOKEN}` };
/** What `sluice serve` prints once it listens: the URL to open. */
export const API_READY = /Open (http:\/\/[^\s/#]+)/;
/** What `sluice worker` prints once it listens: its health URL. */
export const WORKER_READY = /health: +(http:\/\/\S+)\/health/;

export interface RunningServer {
  url: string;
  dataDir: string;
  /** The process id (to signal it: SIGSTOP, SIGCONT). */
  pid: number;
  output: () => string;
  /** The process's exit code once it has exited (null before, or when a signal ended it). */
  exitCode: () => number | null;
  /** Stops the process (SIGTERM) and removes its data directory unless it was given one. */
  stop(): Promise<void>;
  /** Kills the process at once, as a crash would (SIGKILL), leaving its data as it is. */
  crash(): Promise<void>;
}

/** Starts the real server (`server/src/main.ts`) on a free port with a fresh (or the given) data directory. */
export async function startServer(env: Record<string, string> = {}, givenDataDir?: string): Promise<RunningServer> {
  const dataDir = givenDataDir ?? mkdtempSync(path.join(tmpdir(), 'sluice-e2e-'));
  return startProcess(
    tsx('server/src/main.ts'),
    /Open (http:\/\/[^\s/#]+)/,
    { PORT: '0', SLUICE_DATA_DIR: dataDir, SLUICE_API_TOKEN: TEST_TOKEN, ...env },
    dataDir,
    !givenDataDir,
  );
}

/**
 * Starts `sluice <args>` (the CLI: `serve`, `serve --no-worker`, `worker`) with a fresh data directory;
 * `ready` finds the address it prints (its group 1) once it has started.
 */
export async function startCli(args: string[], ready: RegExp, env: Record<string, string>): Promise<RunningServer> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'sluice-e2e-'));
  return startProcess(
    tsx('server/src/cli/main.ts', ...args),
    ready,
    { PORT: '0', SLUICE_DATA_DIR: dataDir, SLUICE_API_TOKEN: TEST_TOKEN, ...env },
    dataDir,
    true,
  );
}

/** Starts the sandbox systems in a process of their own, so they outlive a crashing server. */
export async function startSandboxProcess(workOrders: number): Promise<RunningServer> {
  return startProcess(
    tsx('server/src/sandbox/main.ts'),
    /Sandbox systems: (http:\/\/\S+)/,
    { SLUICE_SANDBOX_WORK_ORDERS: String(workOrders), SLUICE_SANDBOX_PORT: '0' },
    '',
    false,
  );
}

/** The sluice command, as installed with the server package: it runs the built server. */
export const SLUICE_BIN = path.join(REPO_ROOT, 'server', 'bin', 'sluice');

// node itself with tsx as a loader: one process, so a SIGKILL kills the server and not a wrapper
const tsx = (...args: string[]) => [process.execPath, '--import', 'tsx', ...args];

/**
 * Starts the built server as a user does (`server/bin/sluice serve`, which npm start runs): the
 * command execs node, so this is one process, as with tsx.
 */
export async function startBuiltServer(env: Record<string, string> = {}): Promise<RunningServer> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'sluice-e2e-'));
  return startProcess(
    [SLUICE_BIN, 'serve'],
    /Open (http:\/\/[^\s/#]+)/,
    { PORT: '0', SLUICE_DATA_DIR: dataDir, SLUICE_API_TOKEN: TEST_TOKEN, ...env },
    dataDir,
    true,
  );
}

async function startProcess(
  command: string[],
  ready: RegExp,
  env: Record<string, string>,
  dataDir: string,
  removeData: boolean,
): Promise<RunningServer> {
  const child = spawn(command[0] as string, command.slice(1), {
    cwd: REPO_ROOT,
    // the outbound guard lets the tests' own systems (alert receivers…) on 127.0.0.1 through; the
    // addresses its tests expect refused (127.0.0.2, ::1) stay outside the list
    env: { ...process.env, SLUICE_ALLOW_HOSTS: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d) => {
    output += String(d);
  });
  child.stderr?.on('data', (d) => {
    output += String(d);
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in 60 s:\n${output}`)), 60_000);
    const check = () => {
      const match = ready.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1] as string);
      }
    };
    child.stdout?.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${output}`));
    });
  });
  return {
    url,
    dataDir,
    pid: child.pid as number,
    output: () => output,
    exitCode: () => child.exitCode,
    stop: () => stopChild(child, removeData ? dataDir : undefined),
    crash: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    },
  };
}

async function stopChild(child: ChildProcess, dataDir: string | undefined): Promise<void> {
  // one a signal ended (a crash) has exited too, with no exit code
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    if (child.exitCode === null) child.kill('SIGKILL');
  }
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}

/** The log lines (JSON) in a server's output, leaving out its plain lines (the address to open). */
export function logLines(output: string): Record<string, unknown>[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/**
 * The typed client of a Sluice server under test, with the test token; it parses every answer with
 * the schema its route declares, so the end-to-end tests check the contract over real HTTP too.
 */
export function apiClient(baseUrl: string): ApiClient {
  return createApiClient({ baseUrl, token: TEST_TOKEN, validate: true });
}

/** Fetches JSON from the API, failing the test with the body when the status is not the expected one. */
/** Makes a connection to the sandbox ERP at `sandboxUrl` through the API at `apiUrl`, with these limits. */
export function createErpConnection(
  apiUrl: string,
  sandboxUrl: string,
  name: string,
  limits: ConnectionInput['limits'],
): Promise<ConnectionView> {
  return api<ConnectionView>(`${apiUrl}/api/connections`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      name,
      baseUrl: `${sandboxUrl}/erp`,
      auth: 'bearer',
      secret: 'sandbox-erp-token',
      checkPath: '/api/erp/status',
      limits,
    }),
  });
}

export async function api<T>(url: string, init: RequestInit = {}, expected = [200, 201, 202]): Promise<T> {
  const headers = new Headers(init.headers);
  if (!headers.has('authorization')) headers.set('authorization', authHeader.authorization);
  const res = await fetch(url, { ...init, headers });
  const text = await res.text();
  if (!expected.includes(res.status)) throw new Error(`${init.method ?? 'GET'} ${url}: ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

/** Polls until `check` returns a value, or fails after `ms`. */
export async function eventually<T>(check: () => Promise<T | undefined>, ms = 60_000, every = 200): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, every));
  }
}
