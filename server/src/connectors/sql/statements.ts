import type { SqlLookupRequest, SqlReadRequest, SqlValue, SqlWriteRequest } from '@sluice/engine';
import { SqlFailure } from '@sluice/engine';
import { SQL_IDENTIFIER, SQL_TABLE } from '@sluice/shared';

/**
 * The SQL text of each call of the SQL port, for PostgreSQL and MySQL/MariaDB. Values are always
 * bound (placeholders); names are written into the text only once they pass the identifier check,
 * and quoted. A name that does not pass is refused as a statement error naming it (the flow's
 * schema already refuses them: this is the last line, not the first).
 */
export type Dialect = 'postgres' | 'mysql';

export interface Statement {
  text: string;
  values: SqlValue[];
}

/** A name checked as an identifier and quoted for the dialect. */
export function quoteName(dialect: Dialect, name: string, what = 'column'): string {
  if (!SQL_IDENTIFIER.test(name))
    throw new SqlFailure(`${what} "${name}" is not a plain SQL name (letters, digits and _)`, 'statement');
  return dialect === 'postgres' ? `"${name}"` : `\`${name}\``;
}

/** A table (or schema.table) checked and quoted. */
export function quoteTable(dialect: Dialect, table: string): string {
  if (!SQL_TABLE.test(table))
    throw new SqlFailure(
      `table "${table}" is not a plain SQL table name (letters, digits, _ and one dot)`,
      'statement',
    );
  return table
    .split('.')
    .map((part) => quoteName(dialect, part, 'table'))
    .join('.');
}

/** Numbered ($1) or positional (?) placeholders. */
class Binder {
  readonly values: SqlValue[] = [];
  constructor(private readonly dialect: Dialect) {}
  bind(value: SqlValue): string {
    this.values.push(value);
    return this.dialect === 'postgres' ? `$${this.values.length}` : '?';
  }
}

function columnList(dialect: Dialect, columns: readonly string[], prefix = ''): string {
  return columns.length ? columns.map((c) => prefix + quoteName(dialect, c)).join(', ') : `${prefix}*`;
}

/** One keyset page: rows after the last key, in key order, never OFFSET. */
export function readStatement(dialect: Dialect, r: SqlReadRequest): Statement {
  if (!Number.isInteger(r.pageSize) || r.pageSize < 1)
    throw new SqlFailure('pageSize: must be a whole number', 'statement');
  const b = new Binder(dialect);
  const key = quoteName(dialect, r.keyColumn);
  let from: string;
  if (r.table !== undefined) from = `SELECT ${columnList(dialect, r.columns)} FROM ${quoteTable(dialect, r.table)}`;
  else if (r.query !== undefined) from = `SELECT * FROM (${r.query}) AS sluice_rows`;
  else throw new SqlFailure('a read needs a table or a SELECT', 'statement');
  const where: string[] = [];
  if (r.after !== undefined && r.after !== null) where.push(`${key} > ${b.bind(r.after)}`);
  if (r.watermark) where.push(`${quoteName(dialect, r.watermark.column)} > ${b.bind(r.watermark.after)}`);
  const text = `${from}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY ${key} LIMIT ${r.pageSize}`;
  return { text, values: b.values };
}

/** `SELECT … WHERE key IN (…)`. */
export function lookupStatement(dialect: Dialect, r: SqlLookupRequest): Statement {
  const b = new Binder(dialect);
  const list = r.keys.map((k) => b.bind(k)).join(', ');
  const text = `SELECT ${columnList(dialect, r.columns)} FROM ${quoteTable(dialect, r.table)} WHERE ${quoteName(dialect, r.keyColumn)} IN (${list})`;
  return { text, values: b.values };
}

/** The columns that are not keys: what an upsert or an update changes. */
function valueColumns(r: SqlWriteRequest): string[] {
  return r.columns.filter((c) => !r.keyColumns.includes(c));
}

/**
 * One INSERT of `rows` (insert and upsert modes). An upsert changes an existing row only when one of
 * its values differs, so writing the same record again changes nothing (and raises no counter).
 */
export function insertStatement(
  dialect: Dialect,
  r: SqlWriteRequest,
  rows: readonly (readonly SqlValue[])[],
): Statement {
  const b = new Binder(dialect);
  const table = quoteTable(dialect, r.table);
  const names = r.columns.map((c) => quoteName(dialect, c));
  const counter = r.mode === 'upsert' && r.counterColumn ? quoteName(dialect, r.counterColumn) : undefined;
  const tuples = rows.map((row) => `(${[...row.map((v) => b.bind(v)), ...(counter ? ['1'] : [])].join(', ')})`);
  const into = `${table}${dialect === 'postgres' && r.mode === 'upsert' ? ' AS t' : ''} (${[...names, ...(counter ? [counter] : [])].join(', ')})`;
  let text = `INSERT INTO ${into} VALUES ${tuples.join(', ')}`;
  if (r.mode === 'upsert') {
    for (const k of r.keyColumns)
      if (!r.columns.includes(k)) throw new SqlFailure(`key column "${k}" is not written`, 'statement');
    const changed = valueColumns(r).map((c) => quoteName(dialect, c));
    if (dialect === 'postgres') {
      const keys = r.keyColumns.map((k) => quoteName(dialect, k)).join(', ');
      if (!changed.length) text += ` ON CONFLICT (${keys}) DO NOTHING`;
      else {
        const sets = changed.map((c) => `${c} = EXCLUDED.${c}`);
        if (counter) sets.push(`${counter} = t.${counter} + 1`);
        const old = changed.map((c) => `t.${c}`).join(', ');
        const incoming = changed.map((c) => `EXCLUDED.${c}`).join(', ');
        text += ` ON CONFLICT (${keys}) DO UPDATE SET ${sets.join(', ')} WHERE ROW(${old}) IS DISTINCT FROM ROW(${incoming})`;
      }
    } else {
      // MySQL evaluates the assignments left to right: the counter compares before the values change
      const first = changed[0] ?? names[0];
      const sets = changed.map((c) => `${c} = VALUES(${c})`);
      if (counter && changed.length) {
        const same = changed.map((c) => `${c} <=> VALUES(${c})`).join(' AND ');
        sets.unshift(`${counter} = ${counter} + IF(${same}, 0, 1)`);
      }
      text += ` ON DUPLICATE KEY UPDATE ${sets.length ? sets.join(', ') : `${first} = ${first}`}`;
    }
  }
  return { text, values: b.values };
}

/** One UPDATE of one row by its key (update mode); the counter rises only when a value changes. */
export function updateStatement(dialect: Dialect, r: SqlWriteRequest, row: readonly SqlValue[]): Statement {
  const b = new Binder(dialect);
  const value = (c: string) => row[r.columns.indexOf(c)] ?? null;
  const changed = valueColumns(r);
  if (!changed.length) throw new SqlFailure('an update needs a column that is not a key', 'statement');
  const sets: string[] = [];
  if (r.counterColumn) {
    const counter = quoteName(dialect, r.counterColumn);
    const same = changed
      .map((c) =>
        dialect === 'postgres'
          ? `${quoteName(dialect, c)} IS NOT DISTINCT FROM ${b.bind(value(c))}`
          : `${quoteName(dialect, c)} <=> ${b.bind(value(c))}`,
      )
      .join(' AND ');
    sets.push(`${counter} = ${counter} + CASE WHEN ${same} THEN 0 ELSE 1 END`);
  }
  for (const c of changed) sets.push(`${quoteName(dialect, c)} = ${b.bind(value(c))}`);
  const where = r.keyColumns.map((k) => {
    if (!r.columns.includes(k)) throw new SqlFailure(`key column "${k}" is not written`, 'statement');
    return `${quoteName(dialect, k)} = ${b.bind(value(k))}`;
  });
  return {
    text: `UPDATE ${quoteTable(dialect, r.table)} SET ${sets.join(', ')} WHERE ${where.join(' AND ')}`,
    values: b.values,
  };
}
