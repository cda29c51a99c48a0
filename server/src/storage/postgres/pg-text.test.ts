import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromPgJson, fromPgText, toPgJson, toPgJsonText, toPgText } from './pg-text.js';

// strings made mostly of the two characters that matter, so they meet often
const tricky = fc.string({ unit: fc.constantFrom('\u0000', '\uE000', '0', 'e', 'a', '\\', 'u') });
const anyText = fc.oneof(tricky, fc.string({ unit: 'binary' }));

describe('text PostgreSQL can store', () => {
  it('holds no NUL, and reads back as it was, whatever the text', () => {
    fc.assert(
      fc.property(anyText, (s) => {
        const stored = toPgText(s);
        expect(stored.includes('\u0000')).toBe(false);
        expect(fromPgText(stored)).toBe(s);
      }),
    );
  });

  it('leaves text with neither NUL nor the escape character as it is', () => {
    expect(toPgText('plain text, ünïcödé ✓')).toBe('plain text, ünïcödé ✓');
    expect(fromPgText('plain')).toBe('plain');
  });

  it('escapes the strings and keys of JSON, and reads it back as it was (a `__proto__` key stays a key)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), anyText, (value, s) => {
        const doc = { [s]: [value, s], nested: { s } };
        const stored = toPgJson(doc);
        expect(JSON.stringify(stored).includes('\\u0000')).toBe(false);
        expect(fromPgJson(stored)).toEqual(doc);
        // through JSON text (where -0 is 0, as anywhere JSON goes)
        const json = JSON.stringify(doc);
        expect(JSON.stringify(fromPgJson(JSON.parse(toPgJsonText(json))))).toBe(json);
      }),
    );
    const proto = JSON.parse('{"__proto__": {"polluted": "\\u0000"}}');
    const back = fromPgJson(toPgJson(proto)) as Record<string, unknown>;
    expect(Object.keys(back)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('passes JSON text without NUL through untouched', () => {
    const json = JSON.stringify({ a: 'b\\u0000 as six characters, not a NUL' });
    expect(toPgJsonText('{"a":1}')).toBe('{"a":1}');
    // a backslash before u0000 in the data is not a NUL: parsed, found clean, written again equal
    expect(JSON.parse(toPgJsonText(json))).toEqual(JSON.parse(json));
  });
});
