import { readConfig } from './config.js';
import { startSluice } from './sluice.js';

const config = readConfig();
const sluice = await startSluice(config);
console.log(`Sluice is running.`);
console.log(`  data:      ${config.dataDir}`);
console.log(`  sandboxes: ${sluice.sandbox.url}/maintenance (maintenance system), ${sluice.sandbox.url}/erp (ERP)`);
if (sluice.demoFlowId) console.log(`  demo flow "Work orders → ERP" added on first start`);
if (sluice.firstToken) {
  console.log(`\n  API token (shown this once; the editor keeps it after the link below): ${sluice.firstToken}`);
  console.log(`  More tokens: pnpm sluice token create <name>`);
  console.log(`\n  Open ${sluice.url}/#token=${sluice.firstToken}\n`);
} else if (config.apiToken && sluice.demoFlowId) {
  // a first start with the token taken from the environment: the link carries it, as the README's tour expects
  console.log(`\n  API token: the value of SLUICE_API_TOKEN (the editor keeps it after the link below)`);
  console.log(`\n  Open ${sluice.url}/#token=${config.apiToken}\n`);
} else if (config.apiToken) {
  // later starts do not print the token again (it may end up in a log); the editor kept it, or asks once
  console.log(`  API reference: ${sluice.url}/reference (if the editor asks for an API token, paste SLUICE_API_TOKEN)`);
  console.log(`\n  Open ${sluice.url}\n`);
} else {
  console.log(`  API reference: ${sluice.url}/reference (the editor asks for an API token: pnpm sluice token create)`);
  console.log(`\n  Open ${sluice.url}\n`);
}

let closing = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (closing) process.exit(1);
    closing = true;
    console.log('Stopping; running runs resume from their last checkpoint at the next start.');
    sluice.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
