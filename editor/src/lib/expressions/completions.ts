import { JSONATA_FUNCTIONS, type JsonataFunction } from './functions';

/** A field path of the sample records, with an example value. */
export interface FieldPath {
  path: string;
  example: string;
}

const MAX_DEPTH = 4;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const MAX_PATHS = 500;

const needsQuotes = (key: string) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(key);

function example(value: unknown): string {
  if (Array.isArray(value)) return `array (${value.length})`;
  if (isRecord(value)) return 'object';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 39)}…` : text;
}

/**
 * Every field path of the records (`title`, `address.city`, `lines.qty` through arrays, as JSONata
 * maps over them), first seen value as the example; keys that are not plain names in backticks.
 */
export function fieldPaths(records: readonly unknown[]): FieldPath[] {
  const seen = new Map<string, string>();
  const walk = (value: unknown, prefix: string, depth: number) => {
    if (depth > MAX_DEPTH || seen.size >= MAX_PATHS) return;
    if (Array.isArray(value)) {
      for (const item of value.slice(0, 5)) walk(item, prefix, depth);
      return;
    }
    if (!isRecord(value)) return;
    for (const [key, child] of Object.entries(value)) {
      const name = needsQuotes(key) ? `\`${key.replace(/`/g, '')}\`` : key;
      const path = prefix ? `${prefix}.${name}` : name;
      if (!seen.has(path)) seen.set(path, example(child));
      walk(child, path, depth + 1);
    }
  };
  for (const record of records.slice(0, 20)) walk(record, '', 0);
  return [...seen].map(([path, ex]) => ({ path, example: ex }));
}

export interface Completion {
  label: string;
  /** What is inserted. */
  apply: string;
  kind: 'field' | 'function';
  /** The signature or example shown beside the label. */
  detail: string;
  info?: string;
}

/** The word being typed before `pos`: a field path (`address.ci`) or a function name (`$upp`). */
export function wordBefore(text: string, pos: number): { from: number; word: string } {
  const before = text.slice(0, pos);
  const match = /[$A-Za-z0-9_.`]*$/.exec(before);
  const word = match ? match[0] : '';
  return { from: pos - word.length, word };
}

const functionCompletion = (fn: JsonataFunction): Completion => ({
  label: fn.name,
  apply: `${fn.name}(`,
  kind: 'function',
  detail: fn.signature,
  info: fn.description,
});

/** What to offer for `word`: functions after `$`, else field paths that start with it (then functions). */
export function completionsFor(word: string, paths: readonly FieldPath[], explicit = false): Completion[] {
  if (word.startsWith('$')) {
    const lower = word.toLowerCase();
    return JSONATA_FUNCTIONS.filter((fn) => fn.name.toLowerCase().startsWith(lower)).map(functionCompletion);
  }
  if (!word && !explicit) return [];
  const lower = word.toLowerCase();
  const fields: Completion[] = paths
    .filter((p) => p.path.toLowerCase().startsWith(lower))
    .map((p) => ({ label: p.path, apply: p.path, kind: 'field', detail: p.example }));
  const functions =
    explicit || word.length > 0
      ? JSONATA_FUNCTIONS.filter((fn) => fn.name.slice(1).toLowerCase().startsWith(lower)).map(functionCompletion)
      : [];
  return [...fields, ...functions];
}
