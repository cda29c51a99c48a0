import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { FlowRepository } from './flows/repository.js';
import { REPO_ROOT } from './paths.js';

export const DEMO_FLOW_FILE = path.join(REPO_ROOT, 'examples', 'work-orders-to-erp.flow.json');

/** On first start (no flows stored yet), saves the demo flow so a newcomer has something to run. */
export async function seedDemo(flows: FlowRepository): Promise<string | undefined> {
  if ((await flows.list()).length > 0) return undefined;
  const document = JSON.parse(readFileSync(DEMO_FLOW_FILE, 'utf8')) as unknown;
  return (await flows.create(document)).id;
}
