import { describe, expect, it } from 'vitest';
import { completionsFor, fieldPaths, wordBefore } from './completions';
import { engineMessage, expressionDiagnostics } from './diagnostics';
import { JSONATA_FUNCTIONS } from './functions';

const records = [
  { title: 'Pump', qty: 3, address: { city: 'Oslo' }, lines: [{ sku: 'A' }], 'odd key': 1 },
  { title: 'Valve', extra: true },
];

describe('fieldPaths', () => {
  it('lists every path of the sample records once, nested and through arrays, with an example', () => {
    const paths = fieldPaths(records);
    expect(paths.map((p) => p.path)).toEqual([
      'title',
      'qty',
      'address',
      'address.city',
      'lines',
      'lines.sku',
      '`odd key`',
      'extra',
    ]);
    expect(paths.find((p) => p.path === 'title')?.example).toBe('"Pump"');
  });
});

describe('completionsFor', () => {
  const paths = fieldPaths(records);
  it('offers field paths for a word, then functions', () => {
    expect(completionsFor('addr', paths).map((c) => c.label)).toEqual(['address', 'address.city']);
    expect(completionsFor('', paths)).toEqual([]);
    expect(completionsFor('', paths, true).length).toBeGreaterThan(paths.length);
  });
  it('offers functions with their signatures after $', () => {
    const [upper] = completionsFor('$upp', paths);
    expect(upper).toMatchObject({ label: '$uppercase', apply: '$uppercase(', detail: '$uppercase(str)' });
  });
  it('knows every function JSONata evaluates', () => {
    expect(new Set(JSONATA_FUNCTIONS.map((f) => f.name)).size).toBe(JSONATA_FUNCTIONS.length);
    for (const fn of JSONATA_FUNCTIONS) expect(fn.signature.startsWith(`${fn.name}(`)).toBe(true);
  });
  it('finds the word before the cursor', () => {
    expect(wordBefore('a & $upp', 8)).toEqual({ from: 4, word: '$upp' });
    expect(wordBefore('address.ci', 10)).toEqual({ from: 0, word: 'address.ci' });
  });
});

describe('expressionDiagnostics', () => {
  it('underlines where the engine says the expression breaks', () => {
    expect(expressionDiagnostics('title & qty')).toEqual([]);
    const [d] = expressionDiagnostics('title & (');
    expect(d?.to).toBe(9);
    expect(d?.from).toBe(8);
    expect(d?.message).toMatch(/\(at character 9\)$/);
    expect(d?.message).not.toMatch(/expression `/);
  });
  it('words the engine message without the expression it quotes', () => {
    expect(engineMessage('a +', 'expression `a +`: Unexpected end at character 3')).toBe(
      'Unexpected end (at character 3)',
    );
    expect(engineMessage('x', 'expression `x` ran longer than 250 ms (the limit)')).toBe(
      'The expression ran longer than 250 ms (the limit).',
    );
  });
});
