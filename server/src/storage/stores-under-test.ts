import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Storage } from './port.js';
import { openPostgresStorage, type PostgresStorage } from './postgres/index.js';
import { createTestDatabase, type TestDatabase } from './postgres/test-database.js';
import { openSqliteStorage, sqliteClient } from './sqlite/index.js';

/** What a test may ask of the stores it opens. */
export interface OpenOptions {
  payloadCap?: number;
  leaseTtlMs?: number;
  /** Stands for another process: its lease owner id. */
  leaseOwner?: string;
}

/**
 * A store the shared suites run against: opened on a real database (a file in a temporary folder;
 * a fresh PostgreSQL database), every `open` on the same one (a second open is another process).
 */
export interface StoreUnderTest {
  kind: 'sqlite' | 'postgres';
  open(options?: OpenOptions): Promise<Storage>;
  /** Makes the database refuse the outcome of this record key (as a full disk would), for the failure cases. */
  refuseKey(storage: Storage, key: string): Promise<void>;
  allowKeys(storage: Storage): Promise<void>;
  /** Removes the database. */
  dispose(): Promise<void>;
}

function sqlite(): StoreUnderTest {
  let dir: string | undefined;
  const file = () => {
    dir ??= mkdtempSync(path.join(tmpdir(), 'sluice-contract-'));
    return path.join(dir, 'sluice.sqlite');
  };
  return {
    kind: 'sqlite',
    open: (o = {}) => openSqliteStorage(file(), o),
    async refuseKey(storage, key) {
      sqliteClient(storage).$client.exec(
        `CREATE TRIGGER refuse BEFORE INSERT ON outcome_keys WHEN NEW.key = CAST('${key}' AS BLOB)
         BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END`,
      );
    },
    async allowKeys(storage) {
      sqliteClient(storage).$client.exec('DROP TRIGGER IF EXISTS refuse');
    },
    async dispose() {
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

function postgres(): StoreUnderTest {
  let database: Promise<TestDatabase> | undefined;
  return {
    kind: 'postgres',
    async open(o = {}) {
      database ??= createTestDatabase();
      return openPostgresStorage((await database).url, o);
    },
    async refuseKey(storage, key) {
      await (storage as PostgresStorage).db.$client.query(
        `CREATE FUNCTION refuse_key() RETURNS trigger AS $$
         BEGIN IF NEW.key = convert_to('${key}', 'UTF8') THEN RAISE EXCEPTION 'could not extend file: No space left on device'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql;
         CREATE TRIGGER refuse BEFORE INSERT ON outcome_keys FOR EACH ROW EXECUTE FUNCTION refuse_key();`,
      );
    },
    async allowKeys(storage) {
      await (storage as PostgresStorage).db.$client.query(
        'DROP TRIGGER IF EXISTS refuse ON outcome_keys; DROP FUNCTION IF EXISTS refuse_key();',
      );
    },
    async dispose() {
      if (database) await (await database).drop();
    },
  };
}

/** Every store: the shared suites run once for each. */
export function storesUnderTest(): StoreUnderTest[] {
  return [sqlite(), postgres()];
}
