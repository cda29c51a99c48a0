/**
 * PostgreSQL's `text` and `jsonb` cannot hold U+0000, which a source's data or a target's answer may
 * carry (a record key, an error message, a cursor, a watermark). What Sluice stores as text in
 * PostgreSQL goes through a reversible escape, so it is stored and read back exactly as it came:
 * U+E000 (a private-use character, the escape) stands for NUL when followed by `0` and for itself
 * when followed by `e`. Text with neither character (nearly all) is stored as it is, unchanged.
 * Keys the database looks up by (`outcome_keys`) are bytes and need none of this.
 */

const ESC = '\uE000';
const NUL = '\u0000';

/** Text as PostgreSQL can store it. */
export function toPgText(s: string): string {
  if (!s.includes(NUL) && !s.includes(ESC)) return s;
  // the escape character first, so the escapes of NUL made next are not escaped again
  return s.split(ESC).join(`${ESC}e`).split(NUL).join(`${ESC}0`);
}

/** Text as it was before `toPgText`. */
export function fromPgText(s: string): string {
  if (!s.includes(ESC)) return s;
  return s.replace(/\uE000([0e])/g, (_, c: string) => (c === '0' ? NUL : ESC));
}

export const toPgTextOrNull = (s: string | null | undefined): string | null =>
  s === null || s === undefined ? null : toPgText(s);
export const fromPgTextOrNull = (s: string | null): string | null => (s === null ? null : fromPgText(s));

/** A JSON value with every string (keys included) as PostgreSQL can store it in `jsonb`. */
export function toPgJson(value: unknown): unknown {
  return mapStrings(value, toPgText);
}

/** A JSON value read from `jsonb`, as it was before `toPgJson`. */
export function fromPgJson<T>(value: T): T {
  return mapStrings(value, fromPgText) as T;
}

/**
 * JSON text for a `jsonb` parameter: as it is unless it holds a NUL (escaped by JSON as `\u0000`) or
 * the escape character, which only then is parsed, escaped and written again.
 */
export function toPgJsonText(json: string): string {
  if (!json.includes('\\u0000') && !json.includes(ESC)) return json;
  return JSON.stringify(toPgJson(JSON.parse(json)));
}

function mapStrings(value: unknown, f: (s: string) => string): unknown {
  if (typeof value === 'string') return f(value);
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, f));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    // defined, not assigned: a key named `__proto__` stays a key
    for (const [k, v] of Object.entries(value))
      Object.defineProperty(out, f(k), {
        value: mapStrings(v, f),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    return out;
  }
  return value;
}
