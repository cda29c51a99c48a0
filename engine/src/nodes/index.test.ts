import { nodeTypes } from '@sluice/shared';
import { describe, expect, it } from 'vitest';
import { createRuntimeRegistry } from '../runtime.js';
import { runtimes } from './index.js';
import { manual } from './manual.js';

describe('node implementations', () => {
  it('cover exactly the types of the catalogue', () => {
    expect([...runtimes.keys()].sort()).toEqual([...nodeTypes.keys()].sort());
  });

  it('refuse two implementations of one type', () => {
    expect(() =>
      createRuntimeRegistry([
        ['manual', manual],
        ['manual', manual],
      ]),
    ).toThrow(/two implementations/);
  });
});
