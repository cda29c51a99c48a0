import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStorage, StorageStartError } from '../open.js';
import { databaseFile, latestMigrationMillis, openDatabase } from './open.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('opening the SQLite database', () => {
  it('refuses a database a newer build migrated, naming the setting, and leaves it as it was', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sluice-open-'));
    dirs.push(dir);
    const db = openDatabase(databaseFile(dir));
    const later = latestMigrationMillis() + 86_400_000;
    db.$client
      .prepare("INSERT INTO __drizzle_migrations (hash, created_at) VALUES ('from-a-newer-build', ?)")
      .run(later);
    const applied = db.$client.prepare('SELECT count(*) AS n FROM __drizzle_migrations').get();
    db.$client.close();

    const err = await openStorage({ dataDir: dir, env: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageStartError);
    expect((err as Error).message).toMatch(/^SLUICE_DATA_DIR: .*sluice\.sqlite was migrated by a newer Sluice/);
    expect((err as Error).message).toContain(new Date(later).toISOString());

    const again = openDatabase.bind(null, databaseFile(dir));
    expect(again).toThrow(/newer Sluice/);
    // nothing was applied or changed
    const Database = (await import('better-sqlite3')).default;
    const raw = new Database(databaseFile(dir), { readonly: true });
    expect(raw.prepare('SELECT count(*) AS n FROM __drizzle_migrations').get()).toEqual(applied);
    raw.close();
  });

  it('opens a database this build migrated, again and again', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sluice-open-'));
    dirs.push(dir);
    openDatabase(databaseFile(dir)).$client.close();
    const storage = await openStorage({ dataDir: dir, env: {} });
    await storage.close();
  });
});
