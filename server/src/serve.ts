import { readConfig } from './config.js';
import { createLogger } from './logger.js';
import { RoleNeedsDatabaseError, type Sluice, type SluiceRole, startSluice } from './sluice.js';
import { StorageStartError } from './storage/open.js';

/**
 * What a person starting Sluice reads: plain lines on stdout, not log lines (the README tells them to
 * open the address printed here). Everything else the server says goes through the logger.
 */
const print = (line = '') => process.stdout.write(`${line}\n`);

/**
 * Runs this process as Sluice in a role (`npm start` and `sluice serve`: all; `sluice serve
 * --no-worker`: api; `sluice worker`: worker) until SIGINT or SIGTERM, which leave the runs executing
 * here to be resumed (by another worker at once, their leases released) and exit 0. Start input the
 * operator must fix (an unusable database, a role SQLite cannot have) is one line on stderr and exit 2.
 */
export async function runProcess(role: SluiceRole): Promise<void> {
  const config = readConfig();
  const logger = createLogger({ level: config.logLevel });
  const sluice = await startSluice({ ...config, logger, role }).catch((err: unknown) => {
    if (err instanceof StorageStartError || err instanceof RoleNeedsDatabaseError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  });
  if (role === 'worker') printWorker(sluice, config.dataDir);
  else printServe(sluice, config.dataDir, config.apiToken);

  let closing = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (closing) process.exit(1);
      closing = true;
      // on PostgreSQL the released leases let a live worker take the runs at once; else the next start does
      logger.info(
        { signal },
        sluice.storage.kind === 'sqlite'
          ? 'stopping; running runs resume from their last checkpoint at the next start'
          : 'stopping; running runs resume from their last checkpoint in another process, or at the next start',
      );
      sluice.close().then(
        () => process.exit(0),
        (err: unknown) => {
          logger.error({ err }, 'stopping failed');
          process.exit(1);
        },
      );
    });
  }
}

const dataOf = (sluice: Sluice, dataDir: string) =>
  sluice.storage.kind === 'sqlite' ? dataDir : sluice.storage.location;

function printWorker(sluice: Sluice, dataDir: string): void {
  print(`Sluice worker is running.`);
  print(`  data:      ${dataOf(sluice, dataDir)}`);
  print(`  sandboxes: ${sluice.sandbox.url}`);
  print(`  owner:     ${sluice.storage.leases.owner}`);
  print(`  health:    ${sluice.url}/health`);
}

function printServe(sluice: Sluice, dataDir: string, apiToken: string | undefined): void {
  print(sluice.role === 'api' ? `Sluice is running (API only: runs wait for a worker).` : `Sluice is running.`);
  print(`  data:      ${dataOf(sluice, dataDir)}`);
  print(`  sandboxes: ${sluice.sandbox.url}/maintenance (maintenance system), ${sluice.sandbox.url}/erp (ERP)`);
  if (sluice.demoFlowId) print(`  demo flow "Work orders → ERP" added on first start`);
  if (sluice.setupToken) {
    // no user yet: this one-time link makes the first admin (e-mail and password); it works until used
    print(`\n  Make the first admin account (one-time link, valid until used or restarted):`);
    print(`  ${sluice.url}/#setup=${sluice.setupToken}`);
  }
  if (sluice.firstToken) {
    print(`\n  API token (shown this once; the editor keeps it after the link below): ${sluice.firstToken}`);
    print(`  More tokens: pnpm sluice token create <name>`);
    print(`\n  Open ${sluice.url}/#token=${sluice.firstToken}\n`);
  } else if (apiToken && sluice.demoFlowId) {
    // a first start with the token taken from the environment: the link carries it, as the README's tour expects
    print(`\n  API token: the value of SLUICE_API_TOKEN (the editor keeps it after the link below)`);
    print(`\n  Open ${sluice.url}/#token=${apiToken}\n`);
  } else if (apiToken) {
    // later starts do not print the token again (it may end up in a log); the editor kept it, or asks once
    print(`  API reference: ${sluice.url}/reference (if the editor asks for an API token, paste SLUICE_API_TOKEN)`);
    print(`\n  Open ${sluice.url}\n`);
  } else {
    print(`  API reference: ${sluice.url}/reference (the editor asks for an API token: pnpm sluice token create)`);
    print(`\n  Open ${sluice.url}\n`);
  }
}
