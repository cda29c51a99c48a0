import { nodeTypes } from './nodes/index.js';
import type { Problem } from './validate.js';

/**
 * Problems in plain language: "Create in ERP → URL: required" instead of
 * `nodes[1].params.url: Invalid input: expected string, received undefined`. Node labels come from the
 * flow (the node's name, else its type's label), field labels from the node type's parameter schema
 * (a `title` in its meta, else the property name in words), and zod's wording is put into plain words.
 * The problem's `path` stays what it was, for code that places a problem; only what people read changes.
 */

/** The part of a JSON Schema (as zod writes it) the labels are read from. */
interface SchemaPart {
  title?: string;
  properties?: Record<string, SchemaPart>;
  items?: SchemaPart;
  oneOf?: SchemaPart[];
  anyOf?: SchemaPart[];
  additionalProperties?: boolean | SchemaPart;
}

/** What a problem says, in parts: who (the node, or the flow), which field, and what is wrong. */
export interface ProblemText {
  /** The node's label ("Create in ERP", "HTTP write"), or "Flow" / "Connection A → B". */
  subject: string;
  /** The field's label, nested parts joined by " → " ("Retry → Max attempts"), when the problem is about one. */
  field?: string;
  /** What is wrong ("required", "must be at least 1"). */
  text: string;
  /** All of it: "Create in ERP → URL: required". */
  message: string;
}

/** The parts of the document the formatter reads: loose, so a document that does not parse is described too. */
export interface ProblemDocument {
  nodes?: readonly { id?: unknown; type?: unknown; name?: unknown }[] | unknown;
  edges?: readonly { source?: unknown; target?: unknown; sourcePort?: unknown }[] | unknown;
}

const WORDS: Record<string, string> = {
  url: 'URL',
  id: 'ID',
  http: 'HTTP',
  json: 'JSON',
  api: 'API',
  ms: 'ms',
};

/** A property name as a label: "intervalMs" → "Interval (ms)", "catchUpLimit" → "Catch up limit", "url" → "URL". */
export function humanise(name: string): string {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(/[\s_-]+/)
    .filter(Boolean)
    .map((w) => w.toLowerCase());
  if (words.length === 0) return name;
  if (words.length === 1 && words[0] === 'ms') return 'Milliseconds';
  let unit = '';
  if (words.length > 1 && words.at(-1) === 'ms') {
    words.pop();
    unit = ' (ms)';
  }
  const text = words.map((w) => WORDS[w] ?? w).join(' ');
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}${unit}`;
}

/** A field's label: the schema's `title` (set with `.meta({ title })`), else its name in words. */
export function fieldLabel(name: string, schema: { title?: string } | undefined): string {
  return schema?.title ?? humanise(name);
}

const schemas = new Map<string, Record<string, unknown> | null>();

/**
 * The JSON Schema (input side) of a node type's parameters, made once per type; null for an unknown
 * type. The problem wording and the editor's generated forms read the same one.
 */
export function paramsJsonSchema(type: string): Record<string, unknown> | null {
  const cached = schemas.get(type);
  if (cached !== undefined) return cached;
  let schema: Record<string, unknown> | null = null;
  const def = nodeTypes.get(type);
  if (def) {
    try {
      schema = def.params.toJSONSchema({ io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
    } catch {
      schema = null;
    }
  }
  schemas.set(type, schema);
  return schema;
}

const paramsSchema = (type: string) => paramsJsonSchema(type) as SchemaPart | null;

/** The schema of property `key` of an object schema, looking into each variant of a union. */
function property(schema: SchemaPart | undefined, key: string): SchemaPart | undefined {
  if (!schema) return undefined;
  const own = schema.properties?.[key];
  if (own) return own;
  for (const variant of [...(schema.oneOf ?? []), ...(schema.anyOf ?? [])]) {
    const found = property(variant, key);
    if (found) return found;
  }
  if (typeof schema.additionalProperties === 'object') return schema.additionalProperties;
  return undefined;
}

/** The label of a path inside a node type's params: ["retry", "maxAttempts"] → "Retry → Max attempts". */
export function paramLabel(type: string, path: readonly (string | number)[]): string {
  const labels: string[] = [];
  let schema: SchemaPart | undefined = paramsSchema(type) ?? undefined;
  for (const part of path) {
    if (typeof part === 'number') {
      // an item of a list: "Fields" and 0 make "Field 1"
      const list = labels.pop();
      labels.push(list ? `${singular(list)} ${part + 1}` : `#${part + 1}`);
      schema = schema?.items;
      continue;
    }
    const next = property(schema, part);
    labels.push(fieldLabel(part, next));
    schema = next;
  }
  return labels.join(' → ');
}

/** "Fields" → "Field", "Success statuses" → "Success status", "Entries" → "Entry". */
function singular(label: string): string {
  if (/(ss|us)es$/.test(label)) return label.slice(0, -2);
  if (/ies$/.test(label)) return `${label.slice(0, -3)}y`;
  if (/[^s]s$/.test(label)) return label.slice(0, -1);
  return label;
}

/** Splits a rendered path (`nodes[2].params.fields[0].name`) into its parts. */
export function parseProblemPath(path: string): (string | number)[] {
  const parts: (string | number)[] = [];
  const re = /\[(\d+)\]|\.?([^.[\]]+)/g;
  for (let m = re.exec(path); m !== null; m = re.exec(path)) {
    if (m[1] !== undefined) parts.push(Number(m[1]));
    else if (m[2] !== undefined) parts.push(m[2]);
  }
  return parts;
}

const NOUNS: Record<string, string> = {
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  integer: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'an object',
  record: 'an object',
  map: 'an object',
  date: 'a date',
  null: 'empty',
};

const quoteList = (list: string) =>
  list
    .split('|')
    .map((v) => v.trim())
    .join(', ');

type Rule = [RegExp, (m: RegExpMatchArray, typeLabel: string | undefined) => string];

const RULES: Rule[] = [
  [/^Invalid input: expected \w+, received undefined$/, () => 'required'],
  [
    /^Invalid input: expected (\w+), received (\w+)$/,
    (m) => `must be ${NOUNS[m[1] ?? ''] ?? m[1]}, not ${NOUNS[m[2] ?? ''] ?? m[2]}`,
  ],
  [/^Invalid input$/, () => 'is not one of the allowed kinds'],
  [/^Invalid (?:discriminator value|union discriminator)[\s\S]*$/, () => 'is not one of the allowed kinds'],
  [/^Invalid option: expected one of (.+)$/, (m) => `must be one of ${quoteList(m[1] ?? '')}`],
  [
    /^Unrecognized keys?: (.+)$/,
    (m, typeLabel) =>
      `${m[1]} ${/, /.test(m[1] ?? '') ? 'are not settings' : 'is not a setting'}${typeLabel ? ` of ${typeLabel}` : ''}`,
  ],
  [/^Too (small|big): expected (\w+) to (?:have|be) ([<>]=?)(-?[\d.,e+]+)(?: (\w+))?$/, (m) => bound(m)],
  [/^Too small[\s\S]*$/, () => 'is too small'],
  [/^Too big[\s\S]*$/, () => 'is too big'],
  [/^Invalid string: must match pattern[\s\S]*$/, () => 'has the wrong form'],
  [/^Invalid string: must (.+)$/, (m) => `must ${m[1]}`],
  [/^Invalid (?:input|value): expected (.+)$/, (m) => `must be ${m[1]}`],
  [/^Invalid number: (.+)$/, (m) => m[1] ?? ''],
];

function bound(m: RegExpMatchArray): string {
  const [, size, kind, op, n, unit] = m;
  const num = Number(n);
  const count = Number.isFinite(num) ? num.toLocaleString('en-US') : n;
  const at = size === 'small' ? (op === '>' ? 'more than' : 'at least') : op === '<' ? 'less than' : 'at most';
  if (kind === 'string') {
    if (size === 'small' && op === '>=' && num === 1) return 'must not be empty';
    return `must be ${at} ${count} ${num === 1 ? 'character' : 'characters'} long`;
  }
  if (kind === 'array' || kind === 'set') return `must have ${at} ${count} ${num === 1 ? 'item' : 'items'}`;
  return `must be ${at} ${count}${unit && kind !== 'number' && kind !== 'int' ? ` ${unit}` : ''}`;
}

/** Zod's message for an issue (the part after the path), in plain words. Messages written by us pass through. */
export function plainIssue(message: string, typeLabel?: string): string {
  for (const [pattern, say] of RULES) {
    const m = message.match(pattern);
    if (m) return say(m, typeLabel);
  }
  return message;
}

const asArray = (value: unknown): readonly Record<string, unknown>[] =>
  Array.isArray(value) ? value.filter((v): v is Record<string, unknown> => typeof v === 'object' && v !== null) : [];

/** A node's label: its name, else its type's label, with its id when another node reads the same. */
export function nodeLabel(doc: ProblemDocument, id: string): string {
  const nodes = asArray(doc.nodes);
  const label = (n: Record<string, unknown>): string => {
    const name = typeof n.name === 'string' ? n.name.trim() : '';
    if (name) return name;
    const def = typeof n.type === 'string' ? nodeTypes.get(n.type) : undefined;
    return def?.label ?? (typeof n.type === 'string' && n.type ? n.type : String(n.id ?? 'Node'));
  };
  const node = nodes.find((n) => n.id === id);
  if (!node) return `“${id}”`;
  const text = label(node);
  const twins = nodes.filter((n) => label(n) === text).length;
  return twins > 1 ? `${text} (${id})` : text;
}

/** The message after the `path: ` it starts with. */
function bare(problem: Problem): string {
  const prefix = `${problem.path}: `;
  return problem.path && problem.message.startsWith(prefix) ? problem.message.slice(prefix.length) : problem.message;
}

const FLOW_FIELDS: Record<string, string> = {
  name: 'Name',
  description: 'Description',
  format: 'Format',
  settings: 'Settings',
  onError: 'On error',
  maxInFlight: 'Most records in flight',
  nodes: 'Nodes',
  edges: 'Connections',
};

function join(subject: string, field: string | undefined, text: string): ProblemText {
  return { subject, ...(field ? { field } : {}), text, message: `${subject}${field ? ` → ${field}` : ''}: ${text}` };
}

/** Replaces the node ids quoted in a text ("x") by their labels. */
function withLabels(doc: ProblemDocument, text: string): string {
  const ids = new Set(asArray(doc.nodes).map((n) => String(n.id)));
  return text.replace(/"([^"]+)"/g, (all, id: string) => (ids.has(id) ? `“${nodeLabel(doc, id)}”` : all));
}

function expressionText(message: string): string {
  // the engine's wording: expression `src`: message at character N
  const m = message.match(/^expression `[\s\S]*?`(?::)? ([\s\S]*)$/);
  const rest = m ? (m[1] ?? message) : message;
  const at = rest.match(/^([\s\S]*) at character (\d+)$/);
  return at ? `${at[1]} (at character ${at[2]})` : rest;
}

/** One problem of `doc` in plain words. */
export function describeProblem(doc: ProblemDocument, problem: Problem): ProblemText {
  const parts = parseProblemPath(problem.path);
  const nodes = asArray(doc.nodes);
  const edges = asArray(doc.edges);
  const message = bare(problem);

  if (parts[0] === 'nodes' && typeof parts[1] === 'number') {
    const node = nodes[parts[1]];
    const id = problem.nodeId ?? (node && typeof node.id === 'string' ? node.id : undefined);
    const subject = id !== undefined ? nodeLabel(doc, id) : `Node #${parts[1] + 1}`;
    const type = typeof node?.type === 'string' ? node.type : undefined;
    const typeLabel = type ? (nodeTypes.get(type)?.label ?? type) : undefined;
    const rest = parts.slice(2);
    if (rest[0] === 'params') {
      const path = rest.slice(1);
      const field = path.length && type ? paramLabel(type, path) : undefined;
      if (problem.code === 'bad-expression') return join(subject, field, expressionText(message));
      if (problem.code === 'bad-schedule') return join(subject, field, message.replace(/^(cron|timezone): /, ''));
      return join(subject, field, plainIssue(message, typeLabel));
    }
    if (problem.code === 'unknown-node-type') {
      return join(subject, 'Type', `“${String(node?.type ?? '')}” is not a node type of this version of Sluice`);
    }
    if (problem.code === 'duplicate-id') return join(subject, 'ID', 'another node has the same ID');
    if (problem.code === 'unreachable') {
      return join(subject, undefined, 'no trigger leads here, so it will never receive records');
    }
    const field = rest.length ? rest.map((p) => (typeof p === 'number' ? `#${p + 1}` : humanise(p))).join(' → ') : '';
    return join(subject, field || undefined, plainIssue(message));
  }

  if (parts[0] === 'edges' && typeof parts[1] === 'number') {
    const edge = edges[parts[1]];
    const end = (v: unknown) => (typeof v === 'string' ? nodeLabel(doc, v) : '?');
    const subject = edge ? `Connection ${end(edge.source)} → ${end(edge.target)}` : `Connection #${parts[1] + 1}`;
    switch (problem.code) {
      case 'unknown-node':
        return join(
          subject,
          undefined,
          parts[2] === 'source' ? 'starts at a node that does not exist' : 'ends at a node that does not exist',
        );
      case 'unknown-port':
        return join(subject, undefined, `${withLabels(doc, message).replace(/^node “[^”]*” \([^)]*\) /, 'the node ')}`);
      case 'no-input':
        return join(subject, undefined, 'ends at a node that takes no input');
      case 'error-handler-input':
        return join(subject, undefined, message);
      case 'duplicate-edge':
        return join(subject, undefined, 'the same connection is made twice');
      case 'duplicate-id':
        return join(subject, 'ID', 'another connection has the same ID');
      default: {
        const field = parts.slice(2).map((p) => (typeof p === 'number' ? `#${p + 1}` : humanise(p)));
        return join(subject, field.join(' → ') || undefined, plainIssue(message));
      }
    }
  }

  // about the flow as a whole
  const text = withLabels(doc, message).replace(/^(nodes|edges): /, '');
  if (problem.code === 'cycle') {
    const ids = new Set(nodes.map((n) => String(n.id)));
    return join(
      'Flow',
      undefined,
      text.replace(
        /cycle: (.*)$/,
        (_all, chain: string) =>
          `cycle: ${chain
            .split(' → ')
            .map((id) => (ids.has(id) ? nodeLabel(doc, id) : id))
            .join(' → ')}`,
      ),
    );
  }
  const field = parts.length
    ? parts.map((p) => (typeof p === 'number' ? `#${p + 1}` : (FLOW_FIELDS[p] ?? humanise(p))))
    : [];
  const fieldText = problem.code === 'bad-shape' && field.length ? field.join(' → ') : undefined;
  return join('Flow', fieldText, problem.code === 'bad-shape' ? plainIssue(text) : text);
}
