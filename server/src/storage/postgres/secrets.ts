import { asc, inArray, sql } from 'drizzle-orm';
import { ConflictError } from '../../errors.js';
import type { SealedPlace, SealedValue, SecretKeyRow, SecretRows } from '../port.js';
import { SEALED_COLUMNS, sealedColumn } from '../sealed-places.js';
import type { PgDb } from './db.js';
import { pgErrorCode, UNIQUE_VIOLATION } from './errors.js';
import { secretKeys } from './schema.js';

/** The secret key ring (`secret_keys`) and the sealed columns, on PostgreSQL: every process reads the same ring. */
export class PgSecrets implements SecretRows {
  constructor(private readonly db: PgDb) {}

  async keys(): Promise<SecretKeyRow[]> {
    return this.db.select().from(secretKeys).orderBy(asc(secretKeys.createdAt), asc(secretKeys.id));
  }

  async addKey(row: SecretKeyRow): Promise<void> {
    try {
      await this.db.insert(secretKeys).values(row);
    } catch (err) {
      if (pgErrorCode(err) === UNIQUE_VIOLATION) throw new ConflictError('exists', `a secret key "${row.id}" exists`);
      throw err;
    }
  }

  async retireKeys(ids: readonly string[], at: number): Promise<void> {
    if (ids.length === 0) return;
    await this.db
      .update(secretKeys)
      .set({ sealedKey: null, retiredAt: sql`coalesce(${secretKeys.retiredAt}, ${at})` })
      .where(inArray(secretKeys.id, [...ids]));
  }

  async sealedValues(): Promise<SealedValue[]> {
    const values: SealedValue[] = [];
    for (const { table, column, key } of SEALED_COLUMNS) {
      const { rows } = await this.db.$client.query<{ id: string; sealed: string }>(
        `SELECT ${key}::text AS id, ${column} AS sealed FROM ${table} WHERE ${column} IS NOT NULL`,
      );
      for (const r of rows) values.push({ table, column, id: r.id, sealed: r.sealed });
    }
    return values;
  }

  async replaceSealed(place: SealedPlace, expected: string, next: string): Promise<boolean> {
    const { table, column, key } = sealedColumn(place);
    const done = await this.db.$client.query(
      `UPDATE ${table} SET ${column} = $1 WHERE ${key} = $2 AND ${column} = $3`,
      [next, place.id, expected],
    );
    return done.rowCount === 1;
  }
}
