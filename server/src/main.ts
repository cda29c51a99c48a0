import { readConfig } from './config.js';
import { startSluice } from './sluice.js';

const config = readConfig();
const sluice = await startSluice(config);
console.log(`Sluice is running.`);
console.log(`  data:      ${config.dataDir}`);
console.log(`  sandboxes: ${sluice.sandbox.url}/maintenance (maintenance system), ${sluice.sandbox.url}/erp (ERP)`);
if (sluice.demoFlowId) console.log(`  demo flow "Work orders → ERP" added on first start`);
if (sluice.recovered.interrupted)
  console.log(`  ${sluice.recovered.interrupted} run(s) interrupted by the last stop were marked failed`);
console.log(`\n  Open ${sluice.url}\n`);

let closing = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (closing) process.exit(1);
    closing = true;
    console.log('Stopping: cancelling running runs and storing what they settled…');
    sluice.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
