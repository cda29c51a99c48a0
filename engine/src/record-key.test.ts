import { describe, expect, it } from 'vitest';
import { recordKey } from './record-key.js';
import { testRuntime } from './testing/index.js';

describe('record keys', () => {
  // Keys of records without a key field are stored with their outcomes and link a record's history
  // across runs: these are the keys the engine gave before hashing went through the runtime port.
  const PINNED: [Record<string, unknown>, string][] = [
    [{ id: 7, name: 'Pump', tags: ['a', 'b'], nested: { z: 1, a: null } }, 'h:8907bf6cad043a3f60d7'],
    [{ title: 'Überprüfung ✓ 日本', n: 1.5 }, 'h:0765df12a7407fcf1ff3'],
    [{}, 'h:44136fa355b3678a1146'],
  ];

  it('hash a record’s content to the same key as ever (the server’s hash is checked against this one)', () => {
    for (const [record, key] of PINNED) expect(recordKey(record, undefined, testRuntime.hash)).toBe(key);
  });

  it('do not depend on the order of the fields', () => {
    const reordered = { nested: { a: null, z: 1 }, tags: ['a', 'b'], name: 'Pump', id: 7 };
    expect(recordKey(reordered, 'missing', testRuntime.hash)).toBe('h:8907bf6cad043a3f60d7');
  });

  it('take the key field when it holds a string or a number', () => {
    expect(recordKey({ key: 'A-1' }, 'key', testRuntime.hash)).toBe('A-1');
    expect(recordKey({ a: { b: 42 } }, 'a.b', testRuntime.hash)).toBe('42');
  });
});
