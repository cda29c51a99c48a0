import { EXPRESSION_LIMITS, expressionLimitMessage } from '@sluice/shared';
import jsonata from 'jsonata';
import { compileFast, FALLBACK } from './fast-expression.js';

/**
 * A compiled expression: evaluated against one record, never with access to the process. The result
 * is a value when the fast path handled the record, or a promise when JSONata evaluated it.
 */
export interface Expression {
  source: string;
  /** Whether simple records are evaluated without JSONata (see fast-expression.ts). */
  fast: boolean;
  evaluate(record: unknown): unknown;
}

/** True for a promise (a result JSONata is still working out). */
export function isPromise(value: unknown): value is Promise<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/** Thrown for an expression that does not parse or fails on a record; the message says where. */
export class ExpressionError extends Error {
  constructor(
    message: string,
    readonly position?: number,
  ) {
    super(message);
    this.name = 'ExpressionError';
  }
}

interface JsonataError {
  message?: string;
  position?: number;
  token?: string;
}

function describe(source: string, err: unknown): ExpressionError {
  const limit = expressionLimitMessage(err);
  if (limit) return new ExpressionError(`expression \`${source}\` ${limit}`);
  const e = err as JsonataError;
  const where = typeof e.position === 'number' ? ` at character ${e.position}` : '';
  return new ExpressionError(`expression \`${source}\`: ${e.message ?? String(err)}${where}`, e.position);
}

/**
 * Compiles a JSONata expression. JSONata has no access to the process, files or network. Every
 * evaluation by JSONata runs under `EXPRESSION_LIMITS` (time and nesting depth, checked by JSONata at
 * each step), so a runaway recursion fails its record instead of holding the event loop; the fast
 * path needs none, as it only walks the expression's syntax tree once.
 */
export function compileExpression(source: string): Expression {
  let compiled: ReturnType<typeof jsonata>;
  try {
    compiled = jsonata(source, { ...EXPRESSION_LIMITS });
  } catch (err) {
    throw describe(source, err);
  }
  const slow = async (record: unknown) => {
    try {
      return await compiled.evaluate(record, undefined);
    } catch (err) {
      throw describe(source, err);
    }
  };
  const fast = compileFast(compiled.ast());
  if (!fast) return { source, fast: false, evaluate: slow };
  return {
    source,
    fast: true,
    evaluate(record) {
      const value = fast(record);
      return value === FALLBACK ? slow(record) : value;
    },
  };
}

/** Returns a message for an expression that does not compile, else undefined. */
export function checkExpression(source: string): string | undefined {
  try {
    compileExpression(source);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}
