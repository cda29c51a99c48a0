/**
 * What users run, measured whole: the `sluice` command (server/bin/sluice, the built server with the
 * runtime options it sets) as a process of its own, from its start to its exit, with its peak resident
 * memory read from the kernel (VmHWM) while it runs.
 *
 * - `cliEngine`: `sluice run` of the engine benchmark's flow (load.ts) with n records;
 * - `startTimes`: `sluice serve` on an existing data folder, from the process's start to `/api/ready`
 *   answering 200, and its resident memory once idle; beside a plain Node HTTP server's start to its
 *   first answer, the floor any Node server has on this machine.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT, SLUICE_BIN } from '../support/server.js';
import { engineFlow } from './load.js';

/** The environment of a measured process: the caller's, without anything that points it elsewhere. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const {
    SLUICE_DATABASE_URL: _db,
    SLUICE_SECRET_KEY: _key,
    SLUICE_SANDBOX_URL: _sandbox,
    SLUICE_FILES_DIR: _files,
    NODE_OPTIONS: _node,
    ...env
  } = process.env;
  return { ...env, ...extra };
}

/** A process's kernel-kept figures (kB), or undefined once it is gone. */
function procStatus(pid: number): { hwm: number; rss: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(text)?.[1] ?? 0);
    return { hwm: kb('VmHWM'), rss: kb('VmRSS') };
  } catch {
    return undefined;
  }
}

export interface Measured {
  code: number | null;
  stdout: string;
  stderr: string;
  wallSeconds: number;
  /** The process's peak resident memory, MB (its last VmHWM read, every 20 ms, before it exited). */
  peakRssMb: number;
}

/** Runs a command to its end, measuring its wall time and peak memory. */
export function measureProcess(command: string, args: string[], env: NodeJS.ProcessEnv, cwd = REPO_ROOT) {
  return new Promise<Measured>((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += String(d);
    });
    child.stderr.on('data', (d) => {
      stderr += String(d);
    });
    let hwm = 0;
    const timer = setInterval(() => {
      const s = child.pid ? procStatus(child.pid) : undefined;
      if (s) hwm = Math.max(hwm, s.hwm);
    }, 20);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearInterval(timer);
      resolve({ code, stdout, stderr, wallSeconds: (performance.now() - t0) / 1000, peakRssMb: hwm / 1024 });
    });
  });
}

/** `sluice run <flow> --json` in a fresh data folder; throws unless it succeeded. */
export async function sluiceRun(flow: unknown, dataDir: string, env: Record<string, string> = {}) {
  const file = path.join(dataDir, 'bench.flow.json');
  writeFileSync(file, JSON.stringify(flow));
  const m = await measureProcess(SLUICE_BIN, ['run', file, '--json'], cleanEnv({ SLUICE_DATA_DIR: dataDir, ...env }));
  const last = m.stdout.trim().split('\n').pop() ?? '';
  if (m.code !== 0) throw new Error(`sluice run exited ${m.code}:\n${m.stderr.slice(-2000)}`);
  const summary = JSON.parse(last) as { runId: string; status: string; counts: Record<string, number> };
  return { ...m, summary };
}

/** The engine benchmark's flow with n records, run by `sluice run` as a user runs it. */
export async function cliEngine(n: number): Promise<Record<string, number>> {
  const dir = mkdtempSync(path.join(tmpdir(), 'sluice-bench-cli-'));
  try {
    const m = await sluiceRun(engineFlow(n), dir);
    const c = m.summary.counts;
    if (c.read !== n || c.filtered !== n / 10 || c.succeeded !== n - n / 10)
      throw new Error(`sluice run counts ${JSON.stringify(c)}`);
    return { seconds: m.wallSeconds, rssMb: m.peakRssMb, rps: n / m.wallSeconds };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/**
 * Starts a process and asks `url` every 5 ms until it answers 200: milliseconds from the spawn to that
 * answer, and the process's resident memory `idleMs` later; the process is then stopped (SIGTERM).
 */
async function timeToReady(command: string, args: string[], env: NodeJS.ProcessEnv, url: string, idleMs: number) {
  const t0 = performance.now();
  const child = spawn(command, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += String(d);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${command} exited ${child.exitCode}:\n${stderr}`);
      if (performance.now() - t0 > 30_000) throw new Error(`${url} not ready in 30 s:\n${stderr}`);
      const ok = await fetch(url).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    const ms = performance.now() - t0;
    await new Promise((r) => setTimeout(r, idleMs));
    const rss = (procStatus(child.pid as number)?.rss ?? 0) / 1024;
    return { ms, rssMb: rss };
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

const PLAIN_SERVER = `require('node:http').createServer((q, s) => s.end('ok')).listen(Number(process.env.PORT), '127.0.0.1')`;

/**
 * `rounds` starts of `sluice serve` on one data folder made by a first start (its database migrated,
 * the demo flow added), each beside a plain Node HTTP server's start; medians.
 */
export async function startTimes(rounds: number): Promise<Record<string, number>> {
  const dir = mkdtempSync(path.join(tmpdir(), 'sluice-bench-start-'));
  const token = 'bench-start-token';
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  try {
    const serve = async () => {
      const port = await freePort();
      return timeToReady(
        SLUICE_BIN,
        ['serve'],
        cleanEnv({ SLUICE_DATA_DIR: dir, PORT: String(port), SLUICE_API_TOKEN: token }),
        `http://127.0.0.1:${port}/api/ready`,
        3000,
      );
    };
    await serve(); // the first start: makes the database, the demo flow and the secret key
    const sluice: number[] = [];
    const idle: number[] = [];
    const plain: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const s = await serve();
      sluice.push(s.ms);
      idle.push(s.rssMb);
      const port = await freePort();
      const p = await timeToReady(
        process.execPath,
        ['-e', PLAIN_SERVER],
        cleanEnv({ PORT: String(port) }),
        `http://127.0.0.1:${port}/`,
        0,
      );
      plain.push(p.ms);
    }
    return { startMs: median(sluice), plainMs: median(plain), idleRssMb: median(idle) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
