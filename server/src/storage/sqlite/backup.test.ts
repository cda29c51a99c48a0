import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BackupError, backupDatabase, restoreDatabase } from './backup.js';
import { databaseFile, latestMigrationMillis, openDatabase } from './open.js';

let dir: string;
const betterSqlite = createRequire(import.meta.url).resolve('better-sqlite3');

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'sluice-backup-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A migrated Sluice database in `folder` with a flow and `runs` runs, the last one left running. */
function sluiceDatabase(folder: string, runs = 2): string {
  const file = databaseFile(folder);
  const db = openDatabase(file);
  const c = db.$client;
  c.prepare(
    "INSERT INTO flows (id, name, latest_version, created_at, updated_at) VALUES ('f1', 'Flow', 1, 0, 0)",
  ).run();
  for (let i = 0; i < runs; i++)
    c.prepare(
      "INSERT INTO runs (flow_id, flow_name, status, trigger, created_at) VALUES ('f1', 'Flow', ?, 'api', 0)",
    ).run(i === runs - 1 ? 'running' : 'succeeded');
  c.close();
  return file;
}

/** Expects `call` to throw a BackupError for `reason` whose message matches `message`. */
async function refused(call: () => unknown, reason: BackupError['reason'], message: RegExp): Promise<void> {
  let caught: unknown;
  try {
    await call();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(BackupError);
  expect((caught as BackupError).reason).toBe(reason);
  expect((caught as BackupError).message).toMatch(message);
}

describe('backup', () => {
  it('copies a database while another connection keeps writing, as one consistent snapshot in one file', async () => {
    const file = sluiceDatabase(dir);
    const setup = new Database(file);
    setup.exec('CREATE TABLE pair_a (n INTEGER, pad TEXT); CREATE TABLE pair_b (n INTEGER, pad TEXT)');
    // some megabytes, so the copy takes a while the writer goes on through
    const fill = setup.prepare('INSERT INTO pair_a VALUES (-1, ?)');
    setup.transaction(() => {
      for (let i = 0; i < 20_000; i++) fill.run('x'.repeat(500));
    })();
    setup.close();
    // a writer thread of its own connection: every transaction adds the same n to both tables
    const writer = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads');
       const Database = require(workerData.driver);
       const db = new Database(workerData.file, { timeout: 5000 });
       db.pragma('journal_mode = WAL');
       let n = 0, stop = false;
       parentPort.on('message', () => { stop = true; });
       const a = db.prepare('INSERT INTO pair_a VALUES (?, ?)'), b = db.prepare('INSERT INTO pair_b VALUES (?, ?)');
       const step = () => {
         db.transaction(() => { for (let i = 0; i < 50; i++) { n++; a.run(n, 'y'.repeat(200)); b.run(n, 'y'.repeat(200)); } })();
         if (n === 500) parentPort.postMessage('started');
         if (stop) { db.close(); parentPort.postMessage({ n }); } else setImmediate(step);
       };
       step();`,
      { eval: true, workerData: { driver: betterSqlite, file } },
    );
    const messages: unknown[] = [];
    const next = () =>
      new Promise<unknown>((resolve) => {
        writer.once('message', (m) => {
          messages.push(m);
          resolve(m);
        });
      });
    await next();
    const target = path.join(dir, 'backups', 'copy.sqlite');
    const summary = await backupDatabase(file, target);
    writer.postMessage('stop');
    const { n: written } = (await next()) as { n: number };
    await writer.terminate();

    expect(summary).toMatchObject({ flows: 1, runs: 2, unfinishedRuns: 1, migratedTo: latestMigrationMillis() });
    expect(readdirSync(path.dirname(target))).toEqual(['copy.sqlite']);
    const copy = new Database(target, { readonly: true });
    const a = copy.prepare('SELECT COUNT(*) FROM pair_a WHERE n >= 0').pluck().get() as number;
    const b = copy.prepare('SELECT COUNT(*) FROM pair_b').pluck().get() as number;
    expect(copy.pragma('journal_mode', { simple: true })).toBe('delete');
    copy.close();
    // the writer went on during and after the copy; the copy holds whole transactions only
    expect(a).toBe(b);
    expect(a % 50).toBe(0);
    expect(a).toBeGreaterThanOrEqual(500);
    expect(written).toBeGreaterThan(a);
  }, 60_000);

  it('refuses a file that exists, a folder with no database and a database that is not Sluice’s', async () => {
    const file = sluiceDatabase(dir);
    writeFileSync(path.join(dir, 'taken.sqlite'), 'x');
    await refused(() => backupDatabase(file, path.join(dir, 'taken.sqlite')), 'exists', /taken\.sqlite already exists/);
    await refused(
      () => backupDatabase(path.join(dir, 'none.sqlite'), path.join(dir, 'b')),
      'missing',
      /no Sluice database/,
    );
    const other = new Database(path.join(dir, 'other.sqlite'));
    other.exec('CREATE TABLE notes (x)');
    other.close();
    await refused(
      () => backupDatabase(path.join(dir, 'other.sqlite'), path.join(dir, 'b')),
      'invalid',
      /not a Sluice one \(it has no flows, flow_versions, runs, batches, __drizzle_migrations tables\)/,
    );
    expect(existsSync(path.join(dir, 'b'))).toBe(false);
  });
});

describe('restore', () => {
  it('puts a backup in place in a new folder, where the server opens it as it was', async () => {
    const file = sluiceDatabase(dir, 3);
    const backup = path.join(dir, 'backup.sqlite');
    await backupDatabase(file, backup);
    const target = databaseFile(path.join(dir, 'restored'));
    const summary = restoreDatabase(backup, target);
    expect(summary).toMatchObject({ flows: 1, runs: 3, unfinishedRuns: 1 });
    expect(summary.replacedTo).toBeUndefined();
    const db = openDatabase(target);
    expect(db.$client.prepare('SELECT status FROM runs ORDER BY id').pluck().all()).toEqual([
      'succeeded',
      'succeeded',
      'running',
    ]);
    db.$client.close();
    // the backup itself is left as it was
    expect(existsSync(backup)).toBe(true);
  });

  it('refuses a file that is not a Sluice database, or one migrated by a newer build, and leaves nothing behind', async () => {
    const folder = path.join(dir, 'target');
    const target = databaseFile(folder);
    writeFileSync(path.join(dir, 'text.txt'), 'not a database at all, just some words in a file '.repeat(20));
    await refused(
      () => restoreDatabase(path.join(dir, 'text.txt'), target),
      'invalid',
      /text\.txt is not a SQLite database/,
    );
    const other = new Database(path.join(dir, 'other.sqlite'));
    other.exec('CREATE TABLE flows (x)');
    other.close();
    await refused(() => restoreDatabase(path.join(dir, 'other.sqlite'), target), 'invalid', /not a Sluice one/);
    const newer = sluiceDatabase(path.join(dir, 'newer'));
    const c = new Database(newer);
    const future = latestMigrationMillis() + 86_400_000;
    c.prepare('INSERT INTO __drizzle_migrations (hash, created_at) VALUES (?, ?)').run('future', future);
    c.close();
    await refused(
      () => restoreDatabase(newer, target),
      'invalid',
      new RegExp(`made by a newer Sluice \\(its schema has a migration from ${new Date(future).toISOString()}`),
    );
    await refused(() => restoreDatabase(path.join(dir, 'missing.sqlite'), target), 'missing', /no backup file/);
    expect(readdirSync(folder)).toEqual([]);
  });

  it('replaces a database already in the folder only when asked, keeping it beside', async () => {
    const backup = path.join(dir, 'backup.sqlite');
    await backupDatabase(sluiceDatabase(path.join(dir, 'source'), 5), backup);
    const folder = path.join(dir, 'target');
    const target = sluiceDatabase(folder, 1);
    await refused(() => restoreDatabase(backup, target), 'exists', /already holds a Sluice database: .*--force/);
    const result = restoreDatabase(backup, target, { replace: true, now: () => new Date('2026-01-02T03:04:05.678Z') });
    expect(result.replacedTo).toBe(`${target}.before-restore-2026-01-02T03-04-05-678Z`);
    expect(readdirSync(folder).sort()).toEqual([
      'sluice.sqlite',
      'sluice.sqlite.before-restore-2026-01-02T03-04-05-678Z',
    ]);
    const restored = new Database(target, { readonly: true });
    expect(restored.prepare('SELECT COUNT(*) FROM runs').pluck().get()).toBe(5);
    restored.close();
    const kept = new Database(result.replacedTo as string, { readonly: true });
    expect(kept.prepare('SELECT COUNT(*) FROM runs').pluck().get()).toBe(1);
    kept.close();
  });

  it('refuses a folder whose database another process has open, and restores once that process is gone', async () => {
    const backup = path.join(dir, 'backup.sqlite');
    await backupDatabase(sluiceDatabase(path.join(dir, 'source'), 4), backup);
    const target = sluiceDatabase(path.join(dir, 'target'), 1);
    // another process with the database open, as a server has it (WAL mode, having read it)
    const holder = spawn(
      process.execPath,
      [
        '-e',
        `const D = require(${JSON.stringify(betterSqlite)}); const db = new D(${JSON.stringify(target)});
         db.pragma('journal_mode = WAL'); db.prepare('SELECT COUNT(*) FROM runs').get();
         console.log('open'); setInterval(() => {}, 1000);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise((resolve) => holder.stdout?.once('data', resolve));
    try {
      await refused(
        () => restoreDatabase(backup, target, { replace: true }),
        'in-use',
        /sluice\.sqlite is in use by a running Sluice process .*: stop it before restoring/,
      );
      const still = new Database(target, { readonly: true });
      expect(still.prepare('SELECT COUNT(*) FROM runs').pluck().get()).toBe(1);
      still.close();
    } finally {
      const exited = new Promise((resolve) => holder.once('exit', resolve));
      // killed outright, as a crashed server is: its locks go with it
      holder.kill('SIGKILL');
      await exited;
    }
    expect(restoreDatabase(backup, target, { replace: true }).runs).toBe(4);
  });
});
