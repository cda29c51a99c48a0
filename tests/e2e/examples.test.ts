import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, SLUICE_BIN } from '../support/server.js';

/**
 * A newcomer's first commands: every example flow, run as the README gives it
 * (`pnpm sluice run examples/<name>.flow.json`, which runs the built server through `server/bin/sluice`),
 * from the repository root, with no other setup.
 */
const run = promisify(execFile);
const dataDir = mkdtempSync(path.join(tmpdir(), 'sluice-examples-'));
const examples = readdirSync(path.join(REPO_ROOT, 'examples'))
  .filter((name) => name.endsWith('.flow.json'))
  .sort();

// the CSV example appends to examples/out/work-orders.jsonl: leave it as it was found
const JSONL = path.join(REPO_ROOT, 'examples', 'out', 'work-orders.jsonl');
const before = existsSync(JSONL) ? readFileSync(JSONL) : undefined;
afterAll(() => {
  if (before) writeFileSync(JSONL, before);
  else rmSync(path.join(REPO_ROOT, 'examples', 'out'), { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
});

// nothing from the caller's environment decides where files are (the examples must run as given)
const { SLUICE_FILES_DIR: _files, SLUICE_SANDBOX_URL: _sandbox, ...env } = process.env;

describe('every example runs as given from the repository root', () => {
  it('finds the examples', () => {
    expect(examples.length).toBeGreaterThanOrEqual(10);
    expect(examples).toContain('csv-to-jsonl.flow.json');
  });

  it.each(examples)('sluice run examples/%s --json ends with a summary whose counts add up', async (name) => {
    const { stdout } = await run(SLUICE_BIN, ['run', `examples/${name}`, '--json'], {
      cwd: REPO_ROOT,
      env: { ...env, SLUICE_DATA_DIR: dataDir },
      maxBuffer: 16 * 1024 * 1024,
    });
    const lines = stdout.trim().split('\n');
    const summary = JSON.parse(lines[lines.length - 1] as string) as {
      runId: string;
      status: string;
      counts: { read: number; succeeded: number; filtered: number; failed: number; cancelled: number };
    };
    expect(summary.status, name).toBe('succeeded');
    const c = summary.counts;
    expect(c.succeeded + c.filtered + c.failed + c.cancelled, name).toBe(c.read);
    if (name === 'csv-to-jsonl.flow.json') {
      // read from examples/data, written to examples/out: one line per record that succeeded
      expect(c.read).toBeGreaterThan(0);
      expect(c.failed).toBe(1);
      const written = readFileSync(JSONL, 'utf8').trim().split('\n');
      expect(written.length).toBeGreaterThanOrEqual(c.succeeded);
    }
  });
});
