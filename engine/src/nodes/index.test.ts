import { nodeTypes } from '@sluice/shared';
import { describe, expect, it } from 'vitest';
import { createNodeRuntime, runtimes } from './index.js';

describe('node implementations', () => {
  it('cover exactly the types of the catalogue', () => {
    expect(Object.keys(runtimes).sort()).toEqual([...nodeTypes.keys()].sort());
  });

  it('refuse a node of a type the catalogue does not have', () => {
    const node = { id: 'x', type: 'teleport', params: {} };
    expect(() => createNodeRuntime(node, {} as Parameters<typeof createNodeRuntime>[1], undefined)).toThrow(
      'no implementation for type "teleport"',
    );
  });
});
