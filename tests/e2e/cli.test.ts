import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { api, eventually, REPO_ROOT, startServer } from '../support/server.js';

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

describe('sluice CLI against a running server', () => {
  it('pauses, resumes, reports and retries a run', async () => {
    const server = await startServer();
    try {
      const { items } = await api<{ items: { id: string }[] }>(`${server.url}/api/flows`);
      const { runId } = await api<{ runId: string }>(`${server.url}/api/flows/${items[0]!.id}/runs`, {
        method: 'POST',
      });
      await eventually(async () =>
        (await api<{ status: string }>(`${server.url}/api/runs/${runId}`)).status === 'running' ? true : undefined,
      );
      const pause = await cli('pause', runId, '--server', server.url);
      expect(pause.stdout).toContain(`run ${runId}: paused`);
      expect((await cli('status', runId, '--server', server.url)).stdout).toMatch(
        new RegExp(`run ${runId} paused: read \\d+`),
      );
      await cli('resume', runId, '--server', server.url);
      const done = await eventually(async () => {
        const r = await api<{ status: string }>(`${server.url}/api/runs/${runId}`);
        return r.status === 'succeeded' ? r : undefined;
      });
      expect(done.status).toBe('succeeded');
      expect((await cli('status', runId, '--server', server.url)).stdout).toContain(
        `run ${runId} succeeded: read 1000, succeeded 914, failed 86`,
      );
      const retry = await cli('retry', runId, '--server', server.url);
      expect(retry.stdout).toMatch(/retry run \d+ queued for the failed records of run/);
      const refused = await cli('pause', runId, '--server', server.url).then(
        () => undefined,
        (err: { code: number; stderr: string }) => err,
      );
      expect(refused?.code).toBe(1);
      expect(refused?.stderr).toMatch(/cannot pause run \d+: it is succeeded/);
    } finally {
      await server.stop();
    }
  });
});
