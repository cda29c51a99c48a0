/**
 * Limits on evaluating one JSONata expression against one record. The engine (map, filter, branch)
 * and the editor's preview apply the same ones, so a preview that succeeds does not fail in a run.
 * JSONata applies tail-call optimisation, so a runaway recursion loops forever synchronously instead
 * of overflowing the stack: only a limit checked inside the evaluation stops it. The field names are
 * JSONata's own options (`jsonata(source, EXPRESSION_LIMITS)`), which check both on every step.
 */
export const EXPRESSION_LIMITS = {
  /** Milliseconds one evaluation may run. */
  timeout: 250,
  /** How deeply evaluation steps may nest (a recursion that is not a tail call deepens it). */
  stack: 500,
} as const;

/**
 * What to say when an evaluation error is one of the limits above (JSONata's codes D1012 and
 * D1011), naming the limit; undefined for any other error.
 */
export function expressionLimitMessage(error: unknown): string | undefined {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  if (code === 'D1012') return `ran longer than ${EXPRESSION_LIMITS.timeout} ms (the limit)`;
  if (code === 'D1011') return `nested deeper than ${EXPRESSION_LIMITS.stack} levels (the limit)`;
  return undefined;
}
