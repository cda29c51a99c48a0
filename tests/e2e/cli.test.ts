import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/server.js';

const run = promisify(execFile);
const dataDir = mkdtempSync(path.join(tmpdir(), 'sluice-cli-'));
const TSX = path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
const cli = (...args: string[]) =>
  run(TSX, ['server/src/cli/main.ts', ...args], { cwd: REPO_ROOT, env: { ...process.env, SLUICE_DATA_DIR: dataDir } });

afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('sluice CLI', () => {
  it('runs the example flow headless and ends with a JSON summary whose counts add up', async () => {
    const { stdout, stderr } = await cli('run', 'examples/work-orders-to-erp.flow.json', '--json');
    const lines = stdout.trim().split('\n');
    const summary = JSON.parse(lines[lines.length - 1] as string);
    expect(summary.status).toBe('succeeded');
    const { read, succeeded, failed, filtered } = summary.counts;
    expect(read).toBe(1000);
    expect(succeeded + failed + filtered).toBe(read);
    expect(failed).toBeGreaterThan(0);
    expect(stderr).toMatch(/batch \d+: read/);

    // the same counts are in the SQLite file, with one outcome row per record
    const db = new Database(path.join(dataDir, 'sluice.sqlite'), { readonly: true });
    const row = db.prepare('SELECT status, read, failed FROM runs WHERE id = ?').get(Number(summary.runId));
    const outcomes = db
      .prepare('SELECT COUNT(*) AS n FROM record_outcomes WHERE run_id = ?')
      .get(Number(summary.runId));
    db.close();
    expect(row).toEqual({ status: 'succeeded', read, failed });
    expect(outcomes).toEqual({ n: read });
  });

  it('validates a flow file and exits non-zero with the problems when it has errors', async () => {
    const ok = await cli('validate', 'examples/work-orders-to-erp.flow.json');
    expect(ok.stdout).toContain('is valid');
    const bad = path.join(dataDir, 'bad.flow.json');
    writeFileSync(
      bad,
      JSON.stringify({ format: 1, name: 'bad', nodes: [{ id: 'b', type: 'batch', params: { size: 'ten' } }] }),
    );
    const failure = await cli('validate', bad).then(
      () => undefined,
      (err: { code: number; stdout: string }) => err,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stdout).toContain('nodes[0].params.size: must be a number');
    expect(failure?.stdout).toContain('the flow has no trigger');
  });
});
