import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { storedOutcomes } from '@sluice/server';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { api, eventually, REPO_ROOT, startServer, TEST_TOKEN } from '../support/server.js';

const run = promisify(execFile);
const dataDir = mkdtempSync(path.join(tmpdir(), 'sluice-cli-'));
const TSX = path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
const cli = (...args: string[]) =>
  run(TSX, ['server/src/cli/main.ts', ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, SLUICE_DATA_DIR: dataDir, SLUICE_API_TOKEN: TEST_TOKEN },
  });
const fails = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (err: { code: number; stdout: string; stderr: string }) => err,
  );

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
    const outcomes = { n: storedOutcomes(db, Number(summary.runId)).length };
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

      // history commands read what the API serves
      const list = await cli('runs', 'list', '--server', server.url, '--flow', items[0]!.id);
      expect(list.stdout).toMatch(new RegExp(`^${runId}\\s+succeeded`, 'm'));
      const show = await cli('runs', 'show', runId, '--server', server.url);
      expect(show.stdout).toContain('read 1000, succeeded 914, failed 86');
      expect(show.stdout).toMatch(/\d+ × erp-write: HTTP 422/);
      const failed = await api<{ items: { key: string }[] }>(
        `${server.url}/api/runs/${runId}/records?status=failed&limit=1`,
      );
      const history = await cli(
        'records',
        'history',
        failed.items[0]!.key,
        '--flow',
        items[0]!.id,
        '--server',
        server.url,
      );
      expect(history.stdout).toMatch(
        new RegExp(`run ${runId}\\s+\\S+\\s+failed\\s+at erp-write, 1 attempt\\(s\\)\\s+HTTP 422`),
      );
    } finally {
      await server.stop();
    }
  });

  it('exports and imports flows, makes tokens, and is refused without a valid token', async () => {
    const server = await startServer({}, dataDir);
    try {
      const { items } = await api<{ items: { id: string; name: string }[] }>(`${server.url}/api/flows`);
      const file = path.join(dataDir, 'exported.flow.json');
      await cli('flows', 'export', items[0]!.id, file, '--server', server.url);
      const exported = JSON.parse(readFileSync(file, 'utf8')) as { name: string; nodes: unknown[] };
      expect(exported.name).toBe(items[0]!.name);
      writeFileSync(file, JSON.stringify({ ...exported, name: 'Imported copy' }));
      const imported = await cli('flows', 'import', file, '--publish', '--server', server.url);
      expect(imported.stdout).toMatch(/Imported "Imported copy" as flow_\w+ \(version 1\)\nPublished version 1/);
      const flows = await cli('flows', 'list', '--server', server.url);
      expect(flows.stdout).toMatch(/Imported copy\tv1\tpublished v1\tenabled/);

      // a token made by the CLI in the server's database is accepted by the server
      const made = await cli('token', 'create', 'ci');
      const token = made.stdout.trim();
      expect(token).toMatch(/^slc_[\w-]{20,}$/);
      const withIt = await fetch(`${server.url}/api/flows`, { headers: { authorization: `Bearer ${token}` } });
      expect(withIt.status).toBe(200);
      expect((await cli('token', 'list')).stdout).toMatch(/\tci\tadmin\tservice\t/);
      // a service token with a role: a viewer's reads, and is refused a change (403 naming the permission)
      const viewer = (await cli('token', 'create', 'dashboard', '--role', 'viewer')).stdout.trim();
      const reads = await fetch(`${server.url}/api/flows`, { headers: { authorization: `Bearer ${viewer}` } });
      expect(reads.status).toBe(200);
      const change = await fetch(`${server.url}/api/flows/${items[0]!.id}/runs`, {
        method: 'POST',
        headers: { authorization: `Bearer ${viewer}`, 'content-type': 'application/json' },
        body: '{}',
      });
      expect(change.status).toBe(403);
      expect(await change.json()).toMatchObject({ error: { code: 'forbidden', permission: 'runs.control' } });
      expect((await fails(cli('token', 'create', 'x', '--role', 'boss')))?.stderr).toContain('--role must be one of');
      const refused = await fails(cli('flows', 'list', '--server', server.url, '--token', 'not-a-token'));
      expect(refused?.code).toBe(1);
      expect(refused?.stderr).toContain('this token is not valid');
    } finally {
      await server.stop();
    }
  });
});
