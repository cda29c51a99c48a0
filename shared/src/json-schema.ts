import { z } from 'zod';
import { flowSchema } from './flow.js';

/** The JSON Schema of flow format 1 (the shape of the document; node parameters are checked per type). */
export function flowJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(flowSchema, { io: 'input', target: 'draft-2020-12' }) as Record<string, unknown>;
  return {
    $id: 'https://sluice.dev/schemas/flow-1.json',
    title: 'Sluice flow, format 1',
    ...schema,
  };
}
