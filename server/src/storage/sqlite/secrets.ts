import type Database from 'better-sqlite3';
import { ConflictError } from '../../errors.js';
import type { SealedPlace, SealedValue, SecretKeyRow, SecretRows } from '../port.js';
import { SEALED_COLUMNS, sealedColumn } from '../sealed-places.js';
import type { Db } from './open.js';

interface KeyRow {
  id: string;
  sealed_key: string | null;
  created_at: number;
  retired_at: number | null;
}

/** The secret key ring (`secret_keys`) and the sealed columns, on SQLite. */
export class SqliteSecrets implements SecretRows {
  private readonly c: Database.Database;

  constructor(db: Db) {
    this.c = db.$client;
  }

  async keys(): Promise<SecretKeyRow[]> {
    const rows = this.c
      .prepare('SELECT id, sealed_key, created_at, retired_at FROM secret_keys ORDER BY created_at, id')
      .all() as KeyRow[];
    return rows.map((r) => ({ id: r.id, sealedKey: r.sealed_key, createdAt: r.created_at, retiredAt: r.retired_at }));
  }

  async addKey(row: SecretKeyRow): Promise<void> {
    try {
      this.c
        .prepare('INSERT INTO secret_keys (id, sealed_key, created_at, retired_at) VALUES (?, ?, ?, ?)')
        .run(row.id, row.sealedKey, row.createdAt, row.retiredAt);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw new ConflictError('exists', `a secret key "${row.id}" exists`);
      throw err;
    }
  }

  async retireKeys(ids: readonly string[], at: number): Promise<void> {
    const retire = this.c.prepare(
      'UPDATE secret_keys SET sealed_key = NULL, retired_at = coalesce(retired_at, ?) WHERE id = ?',
    );
    this.c.transaction(() => {
      for (const id of ids) retire.run(at, id);
    })();
  }

  async sealedValues(): Promise<SealedValue[]> {
    const values: SealedValue[] = [];
    for (const { table, column, key } of SEALED_COLUMNS) {
      const rows = this.c
        .prepare(`SELECT ${key} AS id, ${column} AS sealed FROM ${table} WHERE ${column} IS NOT NULL`)
        .all() as { id: string; sealed: string }[];
      for (const r of rows) values.push({ table, column, id: String(r.id), sealed: r.sealed });
    }
    return values;
  }

  async replaceSealed(place: SealedPlace, expected: string, next: string): Promise<boolean> {
    const { table, column, key } = sealedColumn(place);
    const done = this.c
      .prepare(`UPDATE ${table} SET ${column} = ? WHERE ${key} = ? AND ${column} = ?`)
      .run(next, place.id, expected);
    return done.changes === 1;
  }
}
