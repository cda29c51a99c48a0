import {
  describeProblem,
  humanise as humaniseName,
  type Problem,
  paramsJsonSchema,
  parseProblemPath,
  plainIssue,
} from '@sluice/shared';

/** The part of JSON Schema (draft 2020-12, as zod writes it) the inspector reads. */
export interface JsonSchema {
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  /** A label better than the property's name, from the schema's meta. */
  title?: string;
  /** Shown only when the sibling fields have these values (e.g. `{ mode: 'batch' }`), from the schema's meta. */
  when?: Record<string, unknown>;
  /** The language of a string that is code (`javascript`, `sql`), from the schema's meta: edited as code. */
  language?: string;
}

/** A path inside a node's params: `['fields', 0, 'expression']`. */
export type ParamPath = readonly (string | number)[];

/** A problem of the document that belongs to one node, with its path relative to where it is shown. */
export interface FieldProblem {
  severity: Problem['severity'];
  path: ParamPath;
  message: string;
}

/** The problems of one node, sorted by where the inspector shows them. */
export interface NodeProblems {
  /** Under the params (paths relative to the params object). */
  params: FieldProblem[];
  /** Under the display name. */
  name: FieldProblem[];
  /** About the node as a whole (unknown type, unreachable, duplicate id…). */
  node: FieldProblem[];
}

/**
 * The JSON Schema of a node type's params (the same one GET /api/node-types serves), or null for an
 * unknown type. Zod is not a dependency of the editor, so the schema's own `toJSONSchema` is used.
 */
export function paramSchema(type: string): JsonSchema | null {
  return paramsJsonSchema(type) as JsonSchema | null;
}

/** A property name as a label: "intervalMs" → "Interval (ms)", "url" → "URL" (the problem messages' wording). */
export const humanise = humaniseName;

/** Splits a rendered path (`nodes[2].params.fields[0].name`) into its parts. */
export const parsePath = parseProblemPath;

/**
 * What is wrong, in plain words and without the path (the inspector already shows where). Zod's
 * message about unknown keys is kept as it is for `placeUnknownKeys` to put under each key.
 */
function bareMessage(problem: Problem): string {
  const prefix = `${problem.path}: `;
  const bare =
    problem.path && problem.message.startsWith(prefix) ? problem.message.slice(prefix.length) : problem.message;
  if (/^Unrecognized keys?: /.test(bare)) return bare;
  return describeProblem({}, problem).text;
}

/**
 * The problems of one node: those naming it by id, or, without an id, by its index in `nodes`.
 * `nodes[i].params.<field>…` go under the field, `nodes[i].name` under the name, the rest to the node.
 */
export function nodeProblems(problems: readonly Problem[], nodeId: string, nodeIndex: number): NodeProblems {
  const out: NodeProblems = { params: [], name: [], node: [] };
  for (const problem of problems) {
    const parts = parsePath(problem.path);
    const atNode = parts[0] === 'nodes' && typeof parts[1] === 'number';
    const mine = problem.nodeId !== undefined ? problem.nodeId === nodeId : atNode && parts[1] === nodeIndex;
    if (!mine) continue;
    const rest = atNode ? parts.slice(2) : [];
    const entry = (path: ParamPath): FieldProblem => ({
      severity: problem.severity,
      path,
      message: bareMessage(problem),
    });
    if (rest[0] === 'params') out.params.push(entry(rest.slice(1)));
    else if (rest[0] === 'name' && rest.length === 1) out.name.push(entry([]));
    else out.node.push(entry([]));
  }
  return out;
}

/**
 * Zod reports the keys a strict object does not know in one message at the object
 * (`Unrecognized keys: "a", "b"`); this puts it under each of `keys` (the params the schema lacks) it names.
 */
export function placeUnknownKeys(problems: readonly FieldProblem[], keys: readonly string[]): FieldProblem[] {
  return problems.flatMap((problem) => {
    if (problem.path.length > 0 || !/^Unrecognized keys?: /.test(problem.message)) return [problem];
    const named = keys.filter((key) => problem.message.includes(`"${key}"`));
    if (named.length === 0) return [problem];
    return named.map((key) => ({ ...problem, path: [key], message: 'not a setting of this node type' }));
  });
}

/** The problems below `key`, with paths relative to it. */
export function problemsUnder(problems: readonly FieldProblem[], key: string | number): FieldProblem[] {
  return problems.filter((p) => p.path[0] === key).map((p) => ({ ...p, path: p.path.slice(1) }));
}

/** The problems a container shows itself: about it as a whole, or about a part it does not show. */
export function problemsOwn(
  problems: readonly FieldProblem[],
  shownKeys: readonly (string | number)[],
): FieldProblem[] {
  return problems.filter((p) => p.path.length === 0 || !shownKeys.includes(p.path[0] as string | number));
}

export type FieldKind =
  | 'enum'
  | 'number'
  | 'string'
  | 'boolean'
  | 'object'
  | 'union'
  | 'string-list'
  | 'object-list'
  | 'string-map'
  | 'json';

const typeOf = (schema: JsonSchema): string | undefined =>
  Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;

/** The discriminating property of a `oneOf` of objects (each variant fixes it with `const`), if there is one. */
export function discriminator(schema: JsonSchema): string | null {
  const variants = schema.oneOf ?? schema.anyOf;
  if (!variants?.length) return null;
  const first = variants[0]?.properties ?? {};
  for (const key of Object.keys(first)) {
    if (variants.every((v) => typeOf(v) === 'object' && v.properties?.[key]?.const !== undefined)) return key;
  }
  return null;
}

/** Which input a schema is edited with. */
export function fieldKind(schema: JsonSchema): FieldKind {
  if (Array.isArray(schema.enum) && schema.enum.length > 0 && schema.enum.every((v) => typeof v === 'string'))
    return 'enum';
  if (discriminator(schema)) return 'union';
  const type = typeOf(schema);
  if (type === 'integer' || type === 'number') return 'number';
  if (type === 'string') return 'string';
  if (type === 'boolean') return 'boolean';
  if (type === 'object') {
    if (schema.properties && Object.keys(schema.properties).length > 0) return 'object';
    const extra = schema.additionalProperties;
    if (typeof extra === 'object' && typeOf(extra) === 'string' && !extra.enum) return 'string-map';
    return 'json';
  }
  if (type === 'array' && schema.items) {
    const items = schema.items;
    const itemType = typeOf(items);
    if (itemType === 'string' && !items.enum) return 'string-list';
    if (itemType === 'object' && items.properties && Object.keys(items.properties).length > 0) {
      const simple = Object.values(items.properties).every((p) =>
        ['string', 'number', 'boolean', 'enum'].includes(fieldKind(p)),
      );
      if (simple) return 'object-list';
    }
  }
  return 'json';
}

/** Whether a field is shown for the current values of its siblings (its `when` meta: e.g. only in batch mode). */
export function isShown(schema: JsonSchema, parent: JsonSchema, value: Record<string, unknown>): boolean {
  if (!schema.when) return true;
  return Object.entries(schema.when).every(([key, wanted]) => {
    const current = value[key] ?? parent.properties?.[key]?.default;
    return Array.isArray(wanted) ? wanted.includes(current) : current === wanted;
  });
}

/** Whether a string field holds a JSONata expression (its help text says so). */
export function isExpression(schema: JsonSchema): boolean {
  return typeOf(schema) === 'string' && /\bJSONata\b/.test(schema.description ?? '');
}

/** Whether a string field holds JavaScript (a code node's body: its help text says so), edited over several lines. */
export function isCode(schema: JsonSchema): boolean {
  return codeLanguage(schema) !== undefined;
}

/** The language a string field is written in when it is code, from its meta (else JavaScript by its help). */
export function codeLanguage(schema: JsonSchema): CodeLanguage | undefined {
  if (typeOf(schema) !== 'string') return undefined;
  if (schema.language === 'javascript' || schema.language === 'sql') return schema.language;
  return /\bJavaScript\b/.test(schema.description ?? '') ? 'javascript' : undefined;
}

export type CodeLanguage = 'javascript' | 'sql';

const count = (n: number) => n.toLocaleString('en-US');

/** A wrong type, worded as the problem list words the validator's message, so it does not show a second time. */
function mismatch(expected: string, value: unknown): string {
  const received = Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value;
  return plainIssue(`Invalid input: expected ${expected}, received ${received}`);
}

/**
 * The checks the browser can make at once, with the wording of the server's messages so the two
 * do not show twice: required, type, bounds, lengths, allowed values.
 */
export function checkValue(schema: JsonSchema, value: unknown, required: boolean): string[] {
  if (value === undefined) return required && schema.default === undefined ? ['required'] : [];
  const type = typeOf(schema);
  const messages: string[] = [];
  if (type === 'integer' || type === 'number') {
    if (typeof value !== 'number' || !Number.isFinite(value)) return ['must be a number'];
    if (type === 'integer' && !Number.isInteger(value)) messages.push('must be a whole number');
    if (schema.minimum !== undefined && value < schema.minimum)
      messages.push(`must be at least ${count(schema.minimum)}`);
    if (schema.exclusiveMinimum !== undefined && value <= schema.exclusiveMinimum)
      messages.push(`must be more than ${count(schema.exclusiveMinimum)}`);
    if (schema.maximum !== undefined && value > schema.maximum)
      messages.push(`must be at most ${count(schema.maximum)}`);
    if (schema.exclusiveMaximum !== undefined && value >= schema.exclusiveMaximum)
      messages.push(`must be less than ${count(schema.exclusiveMaximum)}`);
    return messages;
  }
  if (schema.enum) {
    if (!schema.enum.includes(value))
      return [plainIssue(`Invalid option: expected one of ${schema.enum.map((v) => JSON.stringify(v)).join('|')}`)];
    return [];
  }
  if (type === 'string') {
    if (typeof value !== 'string') return [mismatch('string', value)];
    if (schema.minLength !== undefined && value.length < schema.minLength)
      messages.push(
        schema.minLength === 1 ? 'must not be empty' : `must be at least ${count(schema.minLength)} characters`,
      );
    if (schema.maxLength !== undefined && value.length > schema.maxLength)
      messages.push(`must be at most ${count(schema.maxLength)} characters`);
    return messages;
  }
  if (type === 'boolean') return typeof value === 'boolean' ? [] : [mismatch('boolean', value)];
  if (type === 'array') {
    if (!Array.isArray(value)) return [mismatch('array', value)];
    if (schema.minItems !== undefined && value.length < schema.minItems)
      messages.push(`must have at least ${count(schema.minItems)} items`);
    if (schema.maxItems !== undefined && value.length > schema.maxItems)
      messages.push(`must have at most ${count(schema.maxItems)} items`);
    return messages;
  }
  if (type === 'object') {
    if (!isRecord(value)) return [mismatch('object', value)];
  }
  return messages;
}

/** A fresh value for a new list item: defaults, and empty values for what is required. */
export function initialValue(schema: JsonSchema): unknown {
  if (schema.default !== undefined) return structuredClone(schema.default);
  if (schema.const !== undefined) return schema.const;
  const type = typeOf(schema);
  if (schema.enum?.length) return schema.enum[0];
  if (type === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, prop] of Object.entries(schema.properties ?? {})) {
      if (prop.default !== undefined || schema.required?.includes(key)) out[key] = initialValue(prop);
    }
    return out;
  }
  if (type === 'array') return [];
  if (type === 'boolean') return false;
  if (type === 'integer' || type === 'number') return schema.minimum ?? 0;
  return '';
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A value in a text field's placeholder: "50", "data", `{"type":"none"}`. */
export function placeholderOf(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}
