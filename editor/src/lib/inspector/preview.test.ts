import { EXPRESSION_LIMITS } from '@sluice/shared';
import { describe, expect, it } from 'vitest';
import { conditionOutcome, formatPreviewValue, previewExpression } from './preview';

const sample = {
  title: 'Widget',
  code: 'W-1',
  amount: 12.5,
  status: 'open',
  tags: ['a', 'b'],
  address: { city: 'Oslo' },
};

describe('previewExpression', () => {
  it('evaluates against the sample record', async () => {
    expect(await previewExpression('title & " (" & code & ")"', sample)).toEqual({ ok: true, value: 'Widget (W-1)' });
    expect(await previewExpression('status = "open"', sample)).toEqual({ ok: true, value: true });
    expect(await previewExpression('amount * 2', sample)).toEqual({ ok: true, value: 25 });
    expect(await previewExpression('address.city', sample)).toEqual({ ok: true, value: 'Oslo' });
    expect(await previewExpression('{ "n": $count(tags) }', sample)).toEqual({ ok: true, value: { n: 2 } });
  });

  it('gives undefined for a path that matches nothing', async () => {
    expect(await previewExpression('missing.field', sample)).toEqual({ ok: true, value: undefined });
  });

  it('reports a syntax error with where it is', async () => {
    const result = await previewExpression('title &', sample);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatch(/at character \d+/);
  });

  it('reports an evaluation error', async () => {
    const result = await previewExpression('$number("abc") + $unknownFunction()', sample);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.length).toBeGreaterThan(0);
  });

  it('stops a runaway expression instead of hanging', async () => {
    const result = await previewExpression('($f := function($n) { $f($n + 1) }; $f(0))', sample);
    expect(result).toEqual({
      ok: false,
      error: `The expression ran longer than ${EXPRESSION_LIMITS.timeout} ms (the limit).`,
    });
  });

  it('refuses an empty expression', async () => {
    expect(await previewExpression('  ', sample)).toEqual({ ok: false, error: 'The expression is empty.' });
  });
});

describe('formatPreviewValue', () => {
  it('shows JSON, and no value in words', () => {
    expect(formatPreviewValue('x')).toBe('"x"');
    expect(formatPreviewValue({ a: 1 })).toBe('{\n  "a": 1\n}');
    expect(formatPreviewValue(undefined)).toBe('no value (nothing matched)');
  });
});

describe('conditionOutcome', () => {
  it('reads results the way filter and branch do', () => {
    expect(conditionOutcome('filter', true)).toBe('the record passes');
    expect(conditionOutcome('filter', 0)).toBe('the record is filtered out');
    expect(conditionOutcome('branch', 'yes')).toBe('the record goes to true');
    expect(conditionOutcome('map', true)).toBeNull();
  });
});
