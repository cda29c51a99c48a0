import { describe, expect, it } from 'vitest';
import { createCatalogue, nodeTypes } from './index.js';
import { manualTrigger } from './manual.js';

describe('node catalogue', () => {
  it('refuses a type defined twice', () => {
    expect(() => createCatalogue([manualTrigger, manualTrigger])).toThrow(/defined twice/);
  });

  it('gives nodes that can fail an error port, and every parameter a description', () => {
    for (const def of nodeTypes.values()) {
      if (['http-write', 'map', 'filter', 'branch'].includes(def.type)) {
        expect(def.outputs, def.type).toContain('error');
      }
      const shape = (def.params as unknown as { shape?: Record<string, { description?: string }> }).shape;
      for (const [name, field] of Object.entries(shape ?? {})) {
        expect(field.description, `${def.type}.${name}`).toBeTruthy();
      }
    }
  });
});
