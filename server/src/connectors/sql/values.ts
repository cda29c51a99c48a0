/** A row as a record: binary as base64 text, dates as ISO text, everything else as the driver gave it. */
export function jsonReady(row: Record<string, unknown>): Record<string, unknown> {
  for (const [k, v] of Object.entries(row)) {
    if (v instanceof Date) row[k] = Number.isNaN(v.getTime()) ? null : v.toISOString();
    else if (Buffer.isBuffer(v)) row[k] = v.toString('base64');
    else if (typeof v === 'bigint') row[k] = Number.isSafeInteger(Number(v)) ? Number(v) : String(v);
  }
  return row;
}
