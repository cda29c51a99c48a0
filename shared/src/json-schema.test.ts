import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { flowJsonSchema } from './json-schema.js';

describe('flow.schema.json', () => {
  it('is up to date with the zod schema (run `pnpm schema` after changing it)', () => {
    const committed = JSON.parse(readFileSync(new URL('../flow.schema.json', import.meta.url), 'utf8'));
    expect(committed).toEqual(flowJsonSchema());
    expect(committed.required).toEqual(expect.arrayContaining(['format', 'name', 'nodes']));
  });
});
