// Writes shared/flow.schema.json from the zod schema, for editors and other tools.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { flowJsonSchema } from '../src/json-schema.js';

const target = fileURLToPath(new URL('../flow.schema.json', import.meta.url));
writeFileSync(target, `${JSON.stringify(flowJsonSchema(), null, 2)}\n`);
console.log(`wrote ${target}`);
