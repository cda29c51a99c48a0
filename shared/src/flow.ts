import { z } from 'zod';

/** Version of the flow document format this code reads and writes. */
export const FLOW_FORMAT = 1;

const id = z
  .string()
  .min(1, 'must not be empty')
  .max(100, 'must be at most 100 characters')
  .regex(/^[A-Za-z0-9_.-]+$/, 'may contain only letters, digits, "_", "-" and "."');

export const flowNodeSchema = z.strictObject({
  id: id.describe('Unique within the flow; outcomes are stored against it.'),
  type: z.string().min(1, 'must not be empty').describe('A type of the node catalogue, e.g. "batch".'),
  name: z.string().max(200).optional().describe('Label shown on the canvas.'),
  params: z.record(z.string(), z.unknown()).default({}).describe("Parameters, checked against the type's schema."),
  position: z.strictObject({ x: z.number(), y: z.number() }).optional().describe('Where the node sits on the canvas.'),
});

export const flowEdgeSchema = z.strictObject({
  id: id.optional(),
  source: z.string().min(1, 'must not be empty').describe('Id of the node records leave.'),
  sourcePort: z.string().min(1).default('out').describe('Output port of the source node: "out", "error", "true"…'),
  target: z.string().min(1, 'must not be empty').describe('Id of the node records enter.'),
});

export const flowSettingsSchema = z
  .strictObject({
    onError: z
      .enum(['continue', 'stop'])
      .default('continue')
      .describe('A failed record with nothing on its error port: mark it failed and go on, or stop the run.'),
    maxInFlight: z
      .number()
      .int('must be a whole number')
      .min(1, 'must be at least 1')
      .max(1_000_000, 'must be at most 1,000,000')
      .default(10_000)
      .describe('Most records read but not yet settled at any moment: sources wait for room.'),
  })
  .default({ onError: 'continue', maxInFlight: 10_000 });

/** Records a node may have pinned as sample data. */
export const PINNED_RECORDS_MAX = 100;

export const flowSchema = z.strictObject({
  $schema: z.string().optional().describe('Optional pointer to the JSON Schema, for editors.'),
  format: z.literal(FLOW_FORMAT, { error: `must be ${FLOW_FORMAT} (the only flow format this version reads)` }),
  name: z.string().min(1, 'must not be empty').max(200),
  description: z.string().max(5000).optional(),
  settings: flowSettingsSchema,
  nodes: z.array(flowNodeSchema),
  edges: z.array(flowEdgeSchema).default([]),
  pinned: z
    .record(z.string(), z.array(z.record(z.string(), z.unknown())).max(PINNED_RECORDS_MAX))
    .optional()
    .describe(
      'Sample records by node id, pinned from a test run. Test runs start from a source’s pinned records instead of reading it; real runs never use them.',
    ),
});

/** A flow document as stored and exchanged (defaults applied). */
export type Flow = z.output<typeof flowSchema>;
/** A flow document as a user may write it (defaults optional). */
export type FlowInput = z.input<typeof flowSchema>;
export type FlowNode = Flow['nodes'][number];
export type FlowEdge = Flow['edges'][number];
