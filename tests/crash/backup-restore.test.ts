import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { storedOutcomes } from '@sluice/server';
import { type FlowDetail, isFinalRunStatus, type RunDetail } from '@sluice/shared';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { api, eventually, REPO_ROOT, type RunningServer, startSandboxProcess, startServer } from '../support/server.js';
import { crashFlow, type ErpStats } from './scenario.js';

/** Records of the run the backup is taken in the middle of. */
const RECORDS = Number(process.env.SLUICE_BACKUP_RECORDS ?? 100_000);

const execute = promisify(execFile);
const TSX = path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
const work = mkdtempSync(path.join(tmpdir(), 'sluice-backup-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** `sluice <args>` with this environment: its exit code and what it printed. */
async function sluice(env: Record<string, string>, ...args: string[]) {
  return execute(TSX, ['server/src/cli/main.ts', ...args], { cwd: REPO_ROOT, env: { ...process.env, ...env } }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (err: { code: number; stdout: string; stderr: string }) => ({
      code: err.code,
      stdout: err.stdout,
      stderr: err.stderr,
    }),
  );
}

describe(`sluice backup in the middle of a ${RECORDS}-record run, restored into a new folder`, () => {
  it('resumes the run from the backup and ends with every record stored once and written once', async () => {
    const first = path.join(work, 'first');
    const second = path.join(work, 'second');
    const backupFile = path.join(work, 'backups', 'mid-run.sqlite');
    let sandbox: RunningServer | undefined;
    let server: RunningServer | undefined;
    try {
      sandbox = await startSandboxProcess(RECORDS);
      const env = { SLUICE_SANDBOX_URL: sandbox.url };
      server = await startServer(env, first);
      const live = server;
      const created = await api<FlowDetail>(`${live.url}/api/flows`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(crashFlow),
      });
      const { runId } = await api<{ runId: string }>(`${live.url}/api/flows/${created.id}/runs`, { method: 'POST' });
      const settled = (r: RunDetail) => r.counts.succeeded + r.counts.failed;
      await eventually(
        async () => {
          const r = await api<RunDetail>(`${live.url}/api/runs/${runId}`);
          return settled(r) >= RECORDS / 4 ? r : undefined;
        },
        300_000,
        250,
      );

      // the backup, while the server runs and its writer thread stores the run's batches
      const backup = await sluice({ SLUICE_DATA_DIR: first }, 'backup', backupFile);
      expect(backup.stderr).toBe('');
      expect(backup.code).toBe(0);
      expect(backup.stdout).toMatch(
        /Backed up .*sluice\.sqlite to .*mid-run\.sqlite: \d+ flow\(s\), 1 run\(s\) \(1 unfinished\)/,
      );

      // a restore into the folder the server is using is refused, and changes nothing
      const refused = await sluice({ SLUICE_DATA_DIR: first }, 'restore', backupFile, '--force');
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/sluice\.sqlite is in use by a running Sluice process .*stop it before restoring/);

      // the server goes on past the backup, writing more work orders to the ERP, then dies
      const atBackup = new Database(backupFile, { readonly: true });
      const snapshot = atBackup
        .prepare('SELECT status, succeeded + failed AS settled, read FROM runs WHERE id = ?')
        .get(Number(runId)) as { status: string; settled: number; read: number };
      atBackup.close();
      expect(snapshot.status).toBe('running');
      expect(snapshot.settled).toBeGreaterThan(0);
      expect(snapshot.settled).toBeLessThan(RECORDS);
      await eventually(async () => {
        const r = await api<RunDetail>(`${live.url}/api/runs/${runId}`);
        return settled(r) >= snapshot.settled + 2_000 || isFinalRunStatus(r.status) ? r : undefined;
      });
      const beforeKill = await api<RunDetail>(`${live.url}/api/runs/${runId}`);
      expect(beforeKill.status).toBe('running');
      await live.crash();
      const erpAtKill = await api<ErpStats>(`${sandbox.url}/erp/_sandbox/stats`);

      const restore = await sluice({ SLUICE_DATA_DIR: second }, 'restore', backupFile);
      expect(restore.stderr).toBe('');
      expect(restore.code).toBe(0);
      expect(restore.stdout).toMatch(
        /Restored .*mid-run\.sqlite into .*second: \d+ flow\(s\), 1 run\(s\) \(1 unfinished\)/,
      );
      expect(restore.stdout).toMatch(/1 unfinished run\(s\) resume from their checkpoints/);

      server = await startServer(env, second);
      const restored = server;
      const final = await eventually(
        async () => {
          const r = await api<RunDetail>(`${restored.url}/api/runs/${runId}`);
          return isFinalRunStatus(r.status) ? r : undefined;
        },
        600_000,
        500,
      );

      expect(final.status).toBe('succeeded');
      const { read, succeeded, failed, filtered, cancelled } = final.counts;
      expect(read).toBe(RECORDS);
      expect(succeeded + failed + filtered + cancelled).toBe(RECORDS);
      expect(cancelled).toBe(0);
      expect(final.nodeCounts.erp).toEqual({ in: RECORDS, out: succeeded, error: failed, filtered: 0 });

      // the restored folder's stored outcomes: one per record, every key once
      const db = new Database(path.join(second, 'sluice.sqlite'), { readonly: true });
      const outcomes = storedOutcomes(db, Number(runId));
      const keys = db
        .prepare('SELECT COUNT(DISTINCT key) FROM outcome_keys WHERE run_id = ?')
        .pluck()
        .get(Number(runId));
      const batches = db
        .prepare('SELECT COUNT(*) AS n, SUM(size) AS records FROM batches WHERE run_id = ?')
        .get(Number(runId));
      db.close();
      expect(outcomes).toHaveLength(RECORDS);
      expect(keys).toBe(RECORDS);
      expect(new Set(outcomes.map((o) => o.seq)).size).toBe(RECORDS);
      expect(outcomes.filter((o) => o.status === 0)).toHaveLength(succeeded);
      expect(outcomes.filter((o) => o.status === 2)).toHaveLength(failed);
      expect(batches).toEqual({ n: RECORDS / 50, records: RECORDS });

      // the ERP: every good work order written exactly once, though the first server had written
      // past the backup's checkpoint before it died (the restored run's repeats were answered from
      // the ERP's idempotency log), and every rejected one failed in Sluice
      const erp = await api<ErpStats>(`${sandbox.url}/erp/_sandbox/stats`);
      expect(Object.keys(erpAtKill.writes).length + Object.keys(erpAtKill.rejections).length).toBeGreaterThan(
        snapshot.settled,
      );
      expect(Object.values(erp.writes).filter((n) => n !== 1)).toEqual([]);
      expect(Object.keys(erp.writes)).toHaveLength(succeeded);
      expect(Object.keys(erp.rejections)).toHaveLength(failed);
      expect(erp.replays).toBeGreaterThan(0);
      console.log(
        `backup and restore: backup at ${snapshot.settled} settled records, the first server killed at ` +
          `${settled(beforeKill)}; the restored run ended ${final.status} with ${RECORDS} records, ${succeeded} written once, ` +
          `${failed} rejected, ${erp.replays} repeated writes answered from the idempotency log`,
      );
    } finally {
      await server?.stop();
      await sandbox?.stop();
    }
  }, 900_000);

  it('on PostgreSQL, backup and restore say to use pg_dump and pg_restore and exit 2', async () => {
    const env = {
      SLUICE_DATA_DIR: path.join(work, 'pg'),
      SLUICE_DATABASE_URL: 'postgres://sluice:secret@127.0.0.1:5432/x',
    };
    const backup = await sluice(env, 'backup', path.join(work, 'pg.sqlite'));
    expect(backup.code).toBe(2);
    expect(backup.stderr).toMatch(/sluice backup: the database is PostgreSQL .*back it up with pg_dump/);
    expect(backup.stderr).not.toContain('secret');
    const restore = await sluice(env, 'restore', path.join(work, 'pg.sqlite'));
    expect(restore.code).toBe(2);
    expect(restore.stderr).toMatch(/sluice restore: .*pg_restore/);
  }, 60_000);
});
