// Runs the sandbox systems on their own, so they outlive the Sluice process (crash tests, demos).
import { readConfig } from '../config.js';
import { startSandbox } from './index.js';

const port = Number(process.env.SLUICE_SANDBOX_PORT ?? 0);
const workOrders = Number(process.env.SLUICE_SANDBOX_WORK_ORDERS ?? 1000);
const { sandboxTokenTtlMs } = readConfig();
const sandbox = await startSandbox({
  port,
  workOrders,
  ...(sandboxTokenTtlMs !== undefined ? { tokenTtlMs: sandboxTokenTtlMs } : {}),
});
// the address for a person (and the tests) to read: plain output, not a log line
process.stdout.write(
  `Sandbox systems: ${sandbox.url} (maintenance at /maintenance, ERP at /erp, OAuth2 tokens at /oauth/token; ${workOrders} work orders)\n`,
);
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.on(signal, () => sandbox.close().then(() => process.exit(0)));
