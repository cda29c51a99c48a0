import { evaluateExpression } from '@sluice/engine/expressions';
import { engineMessage } from '../expressions/diagnostics';

export type PreviewResult = { ok: true; value: unknown } | { ok: false; error: string };

/**
 * Evaluates an expression against a sample record with the engine's own expression module (its fast
 * path, else JSONata under the same time and depth limits as a run), as the map, filter and branch
 * nodes do; never throws. A parse error, a failing function or a runaway expression comes back as `error`.
 */
export async function previewExpression(expr: string, sample: unknown): Promise<PreviewResult> {
  if (expr.trim() === '') return { ok: false, error: 'The expression is empty.' };
  const result = await evaluateExpression(expr, sample);
  return result.ok ? { ok: true, value: result.value } : { ok: false, error: engineMessage(expr, result.error) };
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
