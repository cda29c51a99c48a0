import type { SealedPlace } from './port.js';

/**
 * Every column that holds a sealed value, with the column that names its row. The one list both
 * stores walk to re-seal; a new sealed column must be added here or a rotation would leave it under
 * a retired key (the secret rotation test seals one of each and checks none is left behind).
 */
export const SEALED_COLUMNS: readonly { table: SealedPlace['table']; column: SealedPlace['column']; key: string }[] = [
  { table: 'connections', column: 'secret', key: 'name' },
  { table: 'connections', column: 'refresh_token', key: 'name' },
  { table: 'webhooks', column: 'secret', key: 'id' },
  { table: 'alert_rules', column: 'secret', key: 'id' },
];

/** The key column of a place's table; throws on a place not in the list (never interpolated unchecked). */
export function sealedColumn(place: SealedPlace): { table: string; column: string; key: string } {
  const found = SEALED_COLUMNS.find((c) => c.table === place.table && c.column === place.column);
  if (!found) throw new Error(`no sealed column ${place.table}.${place.column}`);
  return found;
}
