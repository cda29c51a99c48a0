import { existsSync } from 'node:fs';
import path from 'node:path';
import { AuditLog, cliActor } from '../audit/audit-log.js';
import { readConfig } from '../config.js';
import { sharedStorage } from '../storage/open.js';
import { SqliteAudit } from '../storage/sqlite/audit.js';
import { BackupError, backupDatabase, type DatabaseSummary, restoreDatabase } from '../storage/sqlite/backup.js';
import { databaseFile, openDatabase } from '../storage/sqlite/open.js';

/** What `sluice backup` and `sluice restore` say on PostgreSQL, where the database's own tools do it. */
const POSTGRES_ADVICE =
  'the database is PostgreSQL (SLUICE_DATABASE_URL is set): back it up with pg_dump ' +
  '(pg_dump --format=custom --file=sluice.dump "$SLUICE_DATABASE_URL") and restore it with pg_restore ' +
  '(pg_restore --clean --dbname="$SLUICE_DATABASE_URL" sluice.dump) while no Sluice process runs';

const describe = (s: DatabaseSummary) =>
  `${s.flows} flow(s), ${s.runs} run(s) (${s.unfinishedRuns} unfinished), ${(s.bytes / 1_048_576).toFixed(1)} MB, ` +
  `schema of ${new Date(s.migratedTo).toISOString().slice(0, 10)}`;

/** `sluice backup <file>`: a consistent copy of the SQLite database, taken while the server runs or not. */
export async function backupCommand(file: string, env: NodeJS.ProcessEnv): Promise<number> {
  if (sharedStorage(env)) {
    console.error(`sluice backup: ${POSTGRES_ADVICE}`);
    return 2;
  }
  const source = databaseFile(readConfig(env).dataDir);
  try {
    const summary = await backupDatabase(source, path.resolve(file));
    console.log(`Backed up ${source} to ${path.resolve(file)}: ${describe(summary)}`);
    await recordBackup(source, path.resolve(file), summary);
    if (summary.sealedConnections)
      console.log(
        `  ${summary.sealedConnections} connection(s) keep a sealed secret: keep the secret key (secret.key in the data ` +
          'folder, or SLUICE_SECRET_KEY) with the backup; it is not in it',
      );
    return 0;
  } catch (err) {
    if (!(err instanceof BackupError)) throw err;
    console.error(`sluice backup: ${err.message}`);
    return 1;
  }
}

/**
 * Records `backup.taken` in the database's audit log, after the copy was made (so the copy holds
 * every entry before it). A database the entry cannot be written to (a newer schema) keeps the
 * backup; the command says so.
 */
async function recordBackup(source: string, target: string, summary: DatabaseSummary): Promise<void> {
  let db: ReturnType<typeof openDatabase> | undefined;
  try {
    db = openDatabase(source);
    await new AuditLog(new SqliteAudit(db)).record({
      actor: cliActor(),
      action: 'backup.taken',
      objectType: 'backup',
      objectId: path.basename(target),
      summary: { file: target, flows: summary.flows, runs: summary.runs, bytes: summary.bytes },
    });
  } catch (err) {
    console.error(
      `sluice backup: the backup is made, but the audit log could not record it: ${(err as Error).message}`,
    );
  } finally {
    db?.$client.close();
  }
}

/** `sluice restore <file> [--force]`: a backup put in place as the database of a stopped data folder. */
export async function restoreCommand(file: string, env: NodeJS.ProcessEnv, force: boolean): Promise<number> {
  if (sharedStorage(env)) {
    console.error(`sluice restore: ${POSTGRES_ADVICE}`);
    return 2;
  }
  const dataDir = readConfig(env).dataDir;
  const target = databaseFile(dataDir);
  try {
    const summary = restoreDatabase(path.resolve(file), target, { replace: force });
    console.log(`Restored ${path.resolve(file)} into ${dataDir}: ${describe(summary)}`);
    if (summary.replacedTo) console.log(`  the database that was there is kept as ${summary.replacedTo}`);
    if (summary.unfinishedRuns)
      console.log(`  ${summary.unfinishedRuns} unfinished run(s) resume from their checkpoints when the server starts`);
    if (summary.sealedConnections && !env.SLUICE_SECRET_KEY && !existsSync(path.join(dataDir, 'secret.key')))
      console.log(
        `  ${summary.sealedConnections} connection(s) keep a sealed secret: copy secret.key from the old data folder ` +
          '(or set SLUICE_SECRET_KEY to the key they were sealed with) before starting, or their secrets cannot be opened',
      );
    return 0;
  } catch (err) {
    if (!(err instanceof BackupError)) throw err;
    console.error(`sluice restore: ${err.message}`);
    return 1;
  }
}
