/**
 * A fast path for the JSONata expressions most flows use (field paths, literals, arithmetic,
 * comparisons, `and`/`or`, `&`, `? :`): the expression's syntax tree is compiled once into a plain
 * synchronous function. Whenever a value falls outside what the fast path handles exactly as JSONata
 * does (an array on a path, a non-number in arithmetic, a non-finite result…), it returns FALLBACK
 * and the caller evaluates that record with JSONata itself, so results and errors are JSONata's.
 */

export const FALLBACK: unique symbol = Symbol('fallback');
export type Fast = (input: unknown) => unknown;

class Unsupported extends Error {}

interface Node {
  type: string;
  value?: unknown;
  steps?: Node[];
  lhs?: Node;
  rhs?: Node;
  expression?: Node;
  expressions?: Node[];
  condition?: Node;
  then?: Node;
  else?: Node;
  [key: string]: unknown;
}

const PLAIN_STEP = new Set(['value', 'type', 'position']);
const PLAIN_PATH = new Set(['type', 'steps']);

/** Compiles a JSONata syntax tree into a fast function, or returns undefined when it uses anything else. */
export function compileFast(ast: unknown): Fast | undefined {
  try {
    return compile(ast as Node);
  } catch (err) {
    if (err instanceof Unsupported) return undefined;
    throw err;
  }
}

function compile(node: Node): Fast {
  switch (node.type) {
    case 'number':
    case 'string':
    case 'value': {
      const v = node.value;
      return () => v;
    }
    case 'path':
      return path(node);
    case 'block':
      if (node.expressions?.length !== 1) throw new Unsupported();
      return compile(node.expressions[0] as Node);
    case 'unary': {
      if (node.value !== '-' || !node.expression) throw new Unsupported();
      const inner = compile(node.expression);
      return (input) => {
        const v = inner(input);
        if (v === undefined || v === FALLBACK) return v;
        return typeof v === 'number' ? -v : FALLBACK;
      };
    }
    case 'condition':
      return condition(node);
    case 'binary':
      return binary(node);
    default:
      throw new Unsupported();
  }
}

function path(node: Node): Fast {
  if (!Object.keys(node).every((k) => PLAIN_PATH.has(k))) throw new Unsupported();
  const names = (node.steps ?? []).map((step) => {
    if (step.type !== 'name' || typeof step.value !== 'string') throw new Unsupported();
    if (!Object.keys(step).every((k) => PLAIN_STEP.has(k))) throw new Unsupported();
    return step.value;
  });
  if (names.length === 0) throw new Unsupported();
  return (input) => {
    let v = input;
    for (const name of names) {
      if (v === null || v === undefined) return undefined;
      if (typeof v !== 'object' || Array.isArray(v)) return FALLBACK;
      v = (v as Record<string, unknown>)[name];
    }
    if (Array.isArray(v) || typeof v === 'function') return FALLBACK;
    return v;
  };
}

/** JSONata's truthiness for the values the fast path handles; FALLBACK for arrays and objects. */
function truthy(v: unknown): boolean | typeof FALLBACK {
  if (v === undefined || v === null) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string') return v.length > 0;
  return FALLBACK;
}

function condition(node: Node): Fast {
  if (!node.condition || !node.then) throw new Unsupported();
  const test = compile(node.condition);
  const yes = compile(node.then);
  const no = node.else ? compile(node.else) : () => undefined;
  return (input) => {
    const c = test(input);
    if (c === FALLBACK) return FALLBACK;
    const t = truthy(c);
    if (t === FALLBACK) return FALLBACK;
    return t ? yes(input) : no(input);
  };
}

const isPrimitive = (v: unknown) => v === null || ['string', 'number', 'boolean'].includes(typeof v);

function binary(node: Node): Fast {
  if (!node.lhs || !node.rhs) throw new Unsupported();
  const op = node.value as string;
  const lhs = compile(node.lhs);
  const rhs = compile(node.rhs);
  switch (op) {
    case '+':
    case '-':
    case '*':
    case '/':
    case '%':
      return (input) => {
        const a = lhs(input);
        const b = rhs(input);
        if (a === FALLBACK || b === FALLBACK) return FALLBACK;
        if (a === undefined || b === undefined)
          return typeof a === 'number' || typeof b === 'number' || (a === undefined && b === undefined)
            ? undefined
            : FALLBACK;
        if (typeof a !== 'number' || typeof b !== 'number') return FALLBACK;
        const r = op === '+' ? a + b : op === '-' ? a - b : op === '*' ? a * b : op === '/' ? a / b : a % b;
        return Number.isFinite(r) ? r : FALLBACK;
      };
    case '=':
    case '!=':
      return (input) => {
        const a = lhs(input);
        const b = rhs(input);
        if (a === FALLBACK || b === FALLBACK) return FALLBACK;
        if (a === undefined || b === undefined) return false;
        if (!isPrimitive(a) || !isPrimitive(b)) return FALLBACK;
        return op === '=' ? a === b : a !== b;
      };
    case '<':
    case '<=':
    case '>':
    case '>=':
      return (input) => {
        const a = lhs(input);
        const b = rhs(input);
        if (a === FALLBACK || b === FALLBACK) return FALLBACK;
        const bothNumbers = typeof a === 'number' && typeof b === 'number';
        const bothStrings = typeof a === 'string' && typeof b === 'string';
        if (!bothNumbers && !bothStrings) return FALLBACK;
        const x = a as number;
        const y = b as number;
        return op === '<' ? x < y : op === '<=' ? x <= y : op === '>' ? x > y : x >= y;
      };
    case 'and':
    case 'or':
      return (input) => {
        const a = truthy(lhs(input));
        if (a === FALLBACK) return FALLBACK;
        if (op === 'and' && !a) return false;
        if (op === 'or' && a) return true;
        const bv = rhs(input);
        if (bv === FALLBACK) return FALLBACK;
        const b = truthy(bv);
        return b === FALLBACK ? FALLBACK : b;
      };
    case '&':
      return (input) => {
        const a = lhs(input);
        const b = rhs(input);
        const sa = concatPart(a);
        const sb = concatPart(b);
        if (sa === FALLBACK || sb === FALLBACK) return FALLBACK;
        return sa + sb;
      };
    default:
      throw new Unsupported();
  }
}

function concatPart(v: unknown): string | typeof FALLBACK {
  if (v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v);
  if (typeof v === 'boolean') return String(v);
  return FALLBACK;
}
