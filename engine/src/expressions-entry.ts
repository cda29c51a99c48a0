/**
 * The browser-safe part of the engine (`@sluice/engine/expressions`): compiling and evaluating
 * expressions (the fast path and JSONata, under the same limits as runs) and checking a flow as a run
 * would before it starts. It imports no Node.js module and nothing that runs a flow, so the editor can
 * use the engine's own expression code instead of a second implementation.
 */
export { checkFlowForRun } from './check.js';

import { compileExpression } from './expressions.js';

export { checkExpression, compileExpression, type Expression, ExpressionError, isPromise } from './expressions.js';

/** What an expression gave for one record: its value, or the engine's message for why it failed. */
export type EvaluationResult = { ok: true; value: unknown } | { ok: false; error: string; position?: number };

/**
 * Evaluates `source` against `record` as a map, filter or branch node does (compiled by the engine,
 * fast path first, JSONata under the expression limits otherwise); never throws.
 */
export async function evaluateExpression(source: string, record: unknown): Promise<EvaluationResult> {
  try {
    return { ok: true, value: await compileExpression(source).evaluate(record) };
  } catch (error) {
    const e = error as { message?: string; position?: number };
    return {
      ok: false,
      error: e.message ?? String(error),
      ...(typeof e.position === 'number' ? { position: e.position } : {}),
    };
  }
}
