import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { latestMigrationMillis } from './open.js';

/** A backup or restore that cannot be done; the message says why and what to do, naming the file. */
export class BackupError extends Error {
  override name = 'BackupError';
  constructor(
    message: string,
    /**
     * `in-use`: the target database is open in a running process; `invalid`: the file is not a usable
     * backup; `exists`: the target is there already; `missing`: the source is not; `failed`: the copy
     * could not be made (the disk, the file system).
     */
    readonly reason: 'in-use' | 'invalid' | 'exists' | 'missing' | 'failed',
  ) {
    super(message);
  }
}

/** What a Sluice database holds, as a backup or restore reports it. */
export interface DatabaseSummary {
  bytes: number;
  flows: number;
  runs: number;
  /** Runs left running, paused or queued: a restored server resumes them. */
  unfinishedRuns: number;
  /** Connections whose secret is stored sealed: they open only with the key that sealed them. */
  sealedConnections: number;
  /** The newest migration applied, as its creation time (drizzle's `created_at`). */
  migratedTo: number;
}

/** The tables any Sluice database has had since its first migration. */
const SLUICE_TABLES = ['flows', 'flow_versions', 'runs', 'batches', '__drizzle_migrations'] as const;

/** How long a backup waits for the server's writer to let it read (it never blocks the writer in WAL mode). */
const BUSY_MS = 5_000;

/** Pages copied per step: all of them, so the copy is made under one read transaction, a consistent snapshot. */
const ALL_PAGES = 0x7fffffff;

/**
 * Copies the database `source` (in use by a running server or not) into the new file `target`: SQLite's
 * online backup, every page in one step, so the copy is what one read transaction saw: the runs,
 * their stored outcomes and their checkpoints as of one commit of the run store's writer thread. In
 * WAL mode a reader blocks no writer, so the server goes on meanwhile. The copy is written beside
 * `target` and renamed into place once checked, in rollback-journal mode (one self-contained file).
 */
export async function backupDatabase(source: string, target: string): Promise<DatabaseSummary> {
  if (!existsSync(source)) throw new BackupError(`there is no Sluice database at ${source}`, 'missing');
  if (existsSync(target))
    throw new BackupError(`${target} already exists: choose another file name or remove it`, 'exists');
  mkdirSync(path.dirname(path.resolve(target)), { recursive: true });
  const partial = `${target}.partial-${process.pid}`;
  const db = new Database(source, { fileMustExist: true, timeout: BUSY_MS });
  try {
    checkSluice(db, source);
    await db.backup(partial, { progress: () => ALL_PAGES });
  } catch (err) {
    rmSync(partial, { force: true });
    throw err instanceof BackupError
      ? err
      : new BackupError(`cannot back up ${source}: ${(err as Error).message}`, 'failed');
  } finally {
    db.close();
  }
  try {
    const copy = new Database(partial, { fileMustExist: true });
    try {
      // the pages carry the source's WAL flag; a backup is one file that needs no -wal beside it
      copy.pragma('journal_mode = DELETE');
      checkIntact(copy, target);
      renameSync(partial, target);
      return summarise(copy, target);
    } finally {
      copy.close();
    }
  } finally {
    rmSync(partial, { force: true });
  }
}

/** Options of `restoreDatabase`. */
export interface RestoreOptions {
  /** Replace a database already in the folder (it is kept beside, renamed `…before-restore-<time>`). */
  replace?: boolean;
  /** The time used to name the replaced database (tests). */
  now?: () => Date;
}

export interface RestoreResult extends DatabaseSummary {
  /** Where the database that was in the folder went, when one was replaced. */
  replacedTo?: string;
}

/**
 * Puts the backup `file` in place as the database `target` of a stopped data folder. The backup is
 * copied first and checked on the copy (a SQLite file, a Sluice database, intact, migrated no
 * further than this build knows); a database already at `target` is refused while any process has
 * it open (a running server, worker or command: SQLite's own locks say so, and the kernel releases
 * them when a process dies, so a crashed server does not block a restore), and replaced only when
 * asked. Runs the backup caught running resume when a server starts on the folder.
 */
export function restoreDatabase(file: string, target: string, options: RestoreOptions = {}): RestoreResult {
  if (!existsSync(file)) throw new BackupError(`there is no backup file at ${file}`, 'missing');
  mkdirSync(path.dirname(path.resolve(target)), { recursive: true });
  const incoming = `${target}.restoring-${process.pid}`;
  copyFileSync(file, incoming);
  let summary: DatabaseSummary;
  try {
    summary = checkBackup(incoming, file);
  } catch (err) {
    removeDatabaseFiles(incoming);
    throw err;
  }
  let held: Database.Database | undefined;
  let replacedTo: string | undefined;
  try {
    if (existsSync(target)) {
      held = holdUnused(target);
      if (!options.replace) {
        throw new BackupError(
          `${target} already holds a Sluice database: restore into an empty data folder, or pass --force to replace it (it is kept beside, renamed)`,
          'exists',
        );
      }
      const stamp = (options.now?.() ?? new Date()).toISOString().replace(/[:.]/g, '-');
      replacedTo = `${target}.before-restore-${stamp}`;
      renameSync(target, replacedTo);
    }
    // a WAL left beside the path by a process that died belongs to the old file: never to the restored one
    rmSync(`${target}-wal`, { force: true });
    rmSync(`${target}-shm`, { force: true });
    renameSync(incoming, target);
  } catch (err) {
    removeDatabaseFiles(incoming);
    throw err;
  } finally {
    held?.close();
  }
  return { ...summary, ...(replacedTo ? { replacedTo } : {}) };
}

/**
 * Opens the database at `file` and makes sure no other process has it open: leaving WAL mode needs
 * every other connection closed (each holds a shared lock on the WAL index while it is open), so it
 * fails at once while a server, worker or command uses the file. The connection it answers holds
 * the file exclusively until closed, so no server starts on it meanwhile.
 */
function holdUnused(file: string): Database.Database {
  const db = new Database(file, { fileMustExist: true, timeout: 0 });
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    const mode = db.pragma('journal_mode = DELETE', { simple: true });
    if (mode !== 'delete') throw busy(file);
    db.exec('BEGIN EXCLUSIVE');
    return db;
  } catch (err) {
    db.close();
    if (err instanceof BackupError) throw err;
    if ((err as { code?: string }).code?.startsWith('SQLITE_BUSY')) throw busy(file);
    if ((err as { code?: string }).code === 'SQLITE_NOTADB')
      throw new BackupError(`${file} is not a SQLite database; move it away first`, 'invalid');
    throw err;
  }
}

const busy = (file: string) =>
  new BackupError(
    `${file} is in use by a running Sluice process (a server, a worker or a command): stop it before restoring`,
    'in-use',
  );

/** Checks the copy of a backup (`shown` names it in messages) and summarises it. */
function checkBackup(copyFile: string, shown: string): DatabaseSummary {
  let db: Database.Database;
  try {
    db = new Database(copyFile, { fileMustExist: true });
  } catch (err) {
    throw new BackupError(`${shown} cannot be opened: ${(err as Error).message}`, 'invalid');
  }
  try {
    checkSluice(db, shown);
    checkIntact(db, shown);
    const migratedTo = latestApplied(db);
    const known = latestMigrationMillis();
    if (migratedTo > known)
      throw new BackupError(
        `${shown} was made by a newer Sluice (its schema has a migration from ${new Date(migratedTo).toISOString()}, ` +
          `this build knows them up to ${new Date(known).toISOString()}): restore it with that Sluice or a newer one`,
        'invalid',
      );
    return summarise(db, copyFile);
  } finally {
    db.close();
  }
}

/** Refuses a file that is not a SQLite database, or one that is not Sluice's. */
function checkSluice(db: Database.Database, shown: string): void {
  let tables: Set<string>;
  try {
    tables = new Set(db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[]);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT')
      throw new BackupError(`${shown} is not a SQLite database`, 'invalid');
    throw err;
  }
  const missing = SLUICE_TABLES.filter((t) => !tables.has(t));
  if (missing.length)
    throw new BackupError(
      `${shown} is a SQLite database but not a Sluice one (it has no ${missing.join(', ')} table${missing.length > 1 ? 's' : ''})`,
      'invalid',
    );
}

function checkIntact(db: Database.Database, shown: string): void {
  const problems = db.prepare('PRAGMA quick_check').pluck().all() as string[];
  if (problems.length !== 1 || problems[0] !== 'ok')
    throw new BackupError(`${shown} is damaged: ${problems.slice(0, 3).join('; ')}`, 'invalid');
}

function latestApplied(db: Database.Database): number {
  return Number(db.prepare('SELECT COALESCE(MAX(created_at), 0) FROM __drizzle_migrations').pluck().get());
}

function summarise(db: Database.Database, file: string): DatabaseSummary {
  const count = (sql: string) => Number(db.prepare(sql).pluck().get());
  return {
    bytes: statSync(file).size,
    flows: count('SELECT COUNT(*) FROM flows'),
    runs: count('SELECT COUNT(*) FROM runs'),
    unfinishedRuns: count("SELECT COUNT(*) FROM runs WHERE status IN ('queued', 'running', 'paused')"),
    sealedConnections: hasTable(db, 'connections')
      ? count('SELECT COUNT(*) FROM connections WHERE secret IS NOT NULL')
      : 0,
    migratedTo: latestApplied(db),
  };
}

const hasTable = (db: Database.Database, name: string) =>
  db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;

function removeDatabaseFiles(file: string): void {
  for (const f of [file, `${file}-wal`, `${file}-shm`, `${file}-journal`]) rmSync(f, { force: true });
}
