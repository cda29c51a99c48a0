import type { Expression } from '../expressions.js';

/** One field of a group record: its name, what it computes, and the expression giving the value. */
export interface FieldSpec {
  name: string;
  op: 'count' | 'sum' | 'min' | 'max' | 'first' | 'last' | 'collect';
  value: Expression | undefined;
}

/** What a field keeps of the values it has seen: JSON, so a whole-run group goes into a checkpoint. */
export type Accumulator = { n: number; v?: unknown; list?: unknown[] };

/** Empty accumulators for each field. */
export function newAccumulators(specs: readonly FieldSpec[]): Accumulator[] {
  return specs.map((s) => (s.op === 'collect' ? { n: 0, list: [] } : { n: 0 }));
}

/**
 * Adds one record's values (by field) to the accumulators; null and missing values are left out of
 * sum, min and max. Returns a message, changing nothing, when a value cannot be added.
 */
export function addValues(
  specs: readonly FieldSpec[],
  accs: Accumulator[],
  values: readonly unknown[],
  limits: { maxCollect: number },
): string | undefined {
  for (const [i, spec] of specs.entries()) {
    const v = values[i];
    const acc = accs[i] as Accumulator;
    if (spec.op === 'sum' && v !== undefined && v !== null && typeof v !== 'number') {
      return `field "${spec.name}": sum needs numbers, got ${JSON.stringify(v)}`;
    }
    if (spec.op === 'collect' && (acc.list?.length ?? 0) >= limits.maxCollect) {
      return `field "${spec.name}": more than ${limits.maxCollect} values in one group (maxCollect)`;
    }
  }
  for (const [i, spec] of specs.entries()) {
    const v = values[i];
    const acc = accs[i] as Accumulator;
    const present = v !== undefined && v !== null;
    switch (spec.op) {
      case 'count':
        acc.n++;
        break;
      case 'sum':
        if (present) acc.v = ((acc.v as number | undefined) ?? 0) + (v as number);
        break;
      case 'min':
      case 'max':
        if (present && (acc.v === undefined || compare(v, acc.v) < 0 === (spec.op === 'min'))) acc.v = v;
        break;
      case 'first':
        if (acc.n === 0) acc.v = v ?? null;
        acc.n++;
        break;
      case 'last':
        acc.v = v ?? null;
        break;
      case 'collect':
        acc.list?.push(v ?? null);
        break;
    }
  }
  return undefined;
}

/** The value of a field for its group. */
export function resultOf(spec: FieldSpec, acc: Accumulator): unknown {
  if (spec.op === 'count') return acc.n;
  if (spec.op === 'collect') return acc.list ?? [];
  if (spec.op === 'sum') return acc.v ?? 0;
  return acc.v ?? null;
}

/** Numbers by value, anything else by its text. */
function compare(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const x = typeof a === 'string' ? a : JSON.stringify(a);
  const y = typeof b === 'string' ? b : JSON.stringify(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
