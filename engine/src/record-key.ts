/** JSON with object keys sorted, so equal records give equal text whatever their key order. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.keys(value as Record<string, unknown>)
    .sort()
    .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
    .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
  return `{${entries.join(',')}}`;
}

/**
 * The record key: the named field when the record has a string or number there, else a hash of
 * the record's content (deterministic, so the same record gets the same key in every run). `hash`
 * is SHA-256 as hex (`Runtime.hash`); the key keeps its first 20 digits.
 */
export function recordKey(
  record: Record<string, unknown>,
  keyField: string | undefined,
  hash: (text: string) => string,
): string {
  if (keyField) {
    const value = keyField.includes('.') ? readPath(record, keyField) : record[keyField];
    if (typeof value === 'string' && value !== '') return value;
    if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  }
  return `h:${hash(canonicalJson(record)).slice(0, 20)}`;
}

/** Reads `a.b.c` from an object; undefined when any step is missing. */
export function readPath(value: unknown, path: string): unknown {
  if (path === '' || path === '.') return value;
  let current = value;
  for (const part of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

/** Sets `a.b.c` on an object, creating plain objects on the way. */
export function writePath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let current = target;
  for (const part of parts.slice(0, -1)) {
    const next = current[part];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) current[part] = {};
    current = current[part] as Record<string, unknown>;
  }
  current[parts[parts.length - 1] as string] = value;
}
