import { z } from 'zod';
import { FLOW_FORMAT, flowSchema } from './flow.js';

/** The JSON Schema of the current flow format (the shape of the document; node parameters are checked per type). */
export function flowJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(flowSchema, { io: 'input', target: 'draft-2020-12' }) as Record<string, unknown>;
  return {
    $id: `https://sluice.dev/schemas/flow-${FLOW_FORMAT}.json`,
    title: `Sluice flow, format ${FLOW_FORMAT}`,
    ...schema,
  };
}
