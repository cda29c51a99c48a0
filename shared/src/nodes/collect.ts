import { z } from 'zod';
import { defineNodeType } from './define.js';

export const collect = defineNodeType({
  type: 'collect',
  group: 'sinks',
  label: 'Collect',
  description: 'Keeps the records that reach it with the run, to be read back through the API.',
  params: z.strictObject({}),
  input: true,
  outputs: [],
  role: 'sink',
});
