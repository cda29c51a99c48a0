import { z } from 'zod';
import { defineNodeType } from './define.js';

export const manualTrigger = defineNodeType({
  type: 'manual',
  group: 'triggers',
  label: 'Manual trigger',
  description: 'Starts a run when someone clicks Run in the editor, calls the API or uses the CLI.',
  params: z.strictObject({}),
  input: false,
  outputs: ['out'],
  role: 'trigger',
});
