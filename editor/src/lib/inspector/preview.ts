import { EXPRESSION_LIMITS, expressionLimitMessage } from '@sluice/shared';
import jsonata from 'jsonata';

export type PreviewResult = { ok: true; value: unknown } | { ok: false; error: string };

interface JsonataError {
  message?: unknown;
  position?: unknown;
}

function describe(error: unknown): string {
  const limit = expressionLimitMessage(error);
  if (limit) return `The expression ${limit}.`;
  const e = (typeof error === 'object' && error !== null ? error : {}) as JsonataError;
  const message = typeof e.message === 'string' && e.message ? e.message : String(error);
  return typeof e.position === 'number' ? `${message} (at character ${e.position})` : message;
}

/**
 * Evaluates a JSONata expression against a sample record, as the map, filter and branch nodes do;
 * never throws. A parse error, a failing function or a runaway expression comes back as `error`.
 */
export async function previewExpression(expr: string, sample: unknown): Promise<PreviewResult> {
  if (expr.trim() === '') return { ok: false, error: 'The expression is empty.' };
  let compiled: ReturnType<typeof jsonata>;
  try {
    // the engine's limits, so a runaway expression neither freezes the editor nor previews as fine
    compiled = jsonata(expr, { ...EXPRESSION_LIMITS });
  } catch (error) {
    return { ok: false, error: describe(error) };
  }
  try {
    return { ok: true, value: await compiled.evaluate(sample) };
  } catch (error) {
    return { ok: false, error: describe(error) };
  }
}

/** A preview value as JSON, readable; `undefined` (no match) said in words. */
export function formatPreviewValue(value: unknown): string {
  if (value === undefined) return 'no value (nothing matched)';
  if (typeof value === 'function') return 'a function';
  try {
    return JSON.stringify(value, null, 2) ?? String(value);
  } catch {
    return String(value);
  }
}

/** What a condition's result does to the record, the way the engine reads it (any truthy value passes). */
export function conditionOutcome(nodeType: string, value: unknown): string | null {
  if (nodeType === 'filter') return value ? 'the record passes' : 'the record is filtered out';
  if (nodeType === 'branch') return value ? 'the record goes to true' : 'the record goes to false';
  return null;
}
