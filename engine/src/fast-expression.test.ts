import fc from 'fast-check';
import jsonata from 'jsonata';
import { describe, expect, it } from 'vitest';
import { compileExpression } from './expressions.js';
import { compileFast, FALLBACK } from './fast-expression.js';

const EXPRESSIONS = [
  'a',
  'a.b',
  'a * 2',
  'a + b',
  'a - b / 2',
  'a % 3',
  '-a',
  'a = b',
  'a != 0',
  'a < b',
  'a >= "m"',
  'a and b',
  'a or b',
  'a & " - " & b',
  'a ? b : "none"',
  'a > 1 ? a * 10 : b',
  '(a)',
  'a.b = "x" and c != null',
  'true',
  'null',
  '"text"',
  '1.5',
];

const value = fc.oneof(
  fc.integer({ min: -5, max: 5 }),
  fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }),
  fc.constantFrom('', 'x', 'm', 'zz', '10'),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.array(fc.integer(), { maxLength: 2 }),
  fc.record({ b: fc.oneof(fc.integer(), fc.constant('x')) }),
);
const record = fc.record({ a: value, b: value, c: value }, { requiredKeys: [] });

describe('fast expression path', () => {
  it('agrees with JSONata wherever it answers, and hands everything else back', async () => {
    for (const source of EXPRESSIONS) {
      const compiled = jsonata(source);
      const fast = compileFast(compiled.ast());
      expect(fast, source).toBeDefined();
      await fc.assert(
        fc.asyncProperty(record, async (r) => {
          const mine = fast!(r);
          if (mine === FALLBACK) return;
          const theirs = await compiled.evaluate(r);
          expect(mine, `${source} on ${JSON.stringify(r)}`).toEqual(theirs);
        }),
        { numRuns: 300 },
      );
    }
  });

  it('is not used for what it does not know: functions, filters, arrays', () => {
    for (const source of ['$uppercase(a)', 'a[0]', 'a.b[x > 1]', '$sum(a)', 'a.(b)', '{"x": a}', '[a, b]']) {
      expect(compileFast(jsonata(source).ast()), source).toBeUndefined();
    }
  });

  it('falls back to JSONata for the records it cannot take, keeping JSONata errors', async () => {
    const e = compileExpression('amount * 2');
    expect(e.fast).toBe(true);
    expect(e.evaluate({ amount: 21 })).toBe(42);
    await expect(e.evaluate({ amount: 'lots' })).rejects.toThrow(/expression `amount \* 2`/);
    await expect(e.evaluate({ amount: [1, 2] })).rejects.toThrow();
  });
});
