import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { checkFlowForRun, type RunEvent } from '@sluice/engine';
import type { Problem } from '@sluice/shared';
import { readConfig } from '../config.js';
import { openSluice } from '../sluice.js';

const USAGE = `Usage:
  sluice run <flow.json> [--json]       run a flow file against the local database and sandbox systems
  sluice validate <flow.json>           print the problems of a flow file; exits 1 when there are errors
  sluice status <runId>                 a run's status and counts            (these talk to a running
  sluice pause|resume|cancel <runId>    control a run                          server: --server URL,
  sluice retry <runId> [--current]      retry its failed records               or SLUICE_URL)

Environment: SLUICE_DATA_DIR (default ./data) holds the SQLite file.`;

/** Calls the API of a running server; prints its error message and returns undefined on failure. */
async function callServer(
  server: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<Record<string, unknown> | undefined> {
  let res: Response;
  try {
    res = await fetch(`${server}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (err) {
    console.error(
      `cannot reach the server at ${server} (${(err as Error).message}); start it with npm start, or pass --server`,
    );
    return undefined;
  }
  const json = (await res.json().catch(() => ({}))) as Record<string, unknown> & { error?: { message?: string } };
  if (!res.ok) {
    console.error(`sluice: ${json.error?.message ?? `HTTP ${res.status}`}`);
    return undefined;
  }
  return json;
}

async function control(command: string, runId: string, server: string, current: boolean): Promise<number> {
  if (command === 'status') {
    const run = await callServer(server, 'GET', `/api/runs/${encodeURIComponent(runId)}`);
    if (!run) return 1;
    const c = run.counts as Record<string, number>;
    console.log(
      `run ${runId} ${run.status}: read ${c.read}, succeeded ${c.succeeded}, failed ${c.failed}, filtered ${c.filtered}, not processed ${c.cancelled}`,
    );
    if (run.waiting) console.log(`  waiting: ${JSON.stringify(run.waiting)}`);
    if (run.error) console.log(`  error: ${run.error}`);
    return 0;
  }
  const body = command === 'retry' ? { version: current ? 'current' : 'original' } : undefined;
  const answer = await callServer(server, 'POST', `/api/runs/${encodeURIComponent(runId)}/${command}`, body);
  if (!answer) return 1;
  console.log(
    command === 'retry'
      ? `retry run ${answer.runId} queued for the failed records of run ${runId}`
      : `run ${runId}: ${answer.status}`,
  );
  return 0;
}

/** Reads and checks a flow file; prints problems; returns undefined when the file cannot run. */
function load(file: string, out: (line: string) => void) {
  let input: unknown;
  try {
    input = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    out(`error ${file}: ${(err as Error).message}`);
    return undefined;
  }
  const result = checkFlowForRun(input);
  for (const p of result.problems) out(formatProblem(p));
  return result;
}

function formatProblem(p: Problem): string {
  return `${p.severity === 'error' ? 'error  ' : 'warning'} ${p.message}`;
}

async function validate(file: string): Promise<number> {
  const result = load(file, console.log);
  if (!result) return 1;
  const errors = result.problems.filter((p) => p.severity === 'error').length;
  const warnings = result.problems.length - errors;
  console.log(
    errors
      ? `✗ ${errors} error(s), ${warnings} warning(s)`
      : `✓ ${path.basename(file)} is valid${warnings ? ` (${warnings} warning(s))` : ''}`,
  );
  return errors ? 1 : 0;
}

async function run(file: string, json: boolean): Promise<number> {
  // With --json, stdout carries only the final JSON line; progress goes to stderr.
  const log = json ? (line: string) => console.error(line) : (line: string) => console.log(line);
  const checked = load(file, log);
  if (!checked?.ok || !checked.flow) {
    log('The flow has errors; nothing was run.');
    return 2;
  }
  const config = readConfig();
  const sluice = await openSluice({ ...config, concurrency: 1 });
  try {
    const flow = sluice.flows.saveByName(checked.flow);
    const runId = sluice.runner.enqueue(flow.id, 'cli');
    sluice.runner.start();
    log(`Run ${runId} of "${flow.name}" (version ${flow.latestVersion}), database ${config.dataDir}`);
    let lastPrint = 0;
    sluice.runner.events.on('event', (event: RunEvent) => {
      if (event.runId !== runId || event.type !== 'batch') return;
      const now = Date.now();
      if (now - lastPrint < 250) return;
      lastPrint = now;
      const c = event.counts;
      log(
        `  batch ${event.batch.batchNo}: read ${c.read}, succeeded ${c.succeeded}, failed ${c.failed}, filtered ${c.filtered}`,
      );
    });
    const onSignal = () => {
      log('Cancelling…');
      sluice.runner.cancel(runId);
    };
    process.once('SIGINT', onSignal);
    const result = await sluice.runner.wait(runId);
    process.off('SIGINT', onSignal);
    const detail = sluice.runs.get(runId);
    const c = detail.counts;
    log(
      `Run ${runId} ${detail.status}: read ${c.read}, succeeded ${c.succeeded}, failed ${c.failed}, filtered ${c.filtered}`,
    );
    if (detail.error) log(`  error: ${detail.error}`);
    if (c.failed) log(`  failed records: GET /api/runs/${runId}/records?status=failed`);
    if (json) console.log(JSON.stringify({ runId, status: result.status, counts: c }));
    return detail.status === 'succeeded' ? 0 : detail.status === 'cancelled' ? 130 : 1;
  } finally {
    await sluice.runner.stop();
    sluice.store.flush();
    await sluice.sandbox.close();
    sluice.db.$client.close();
  }
}

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      current: { type: 'boolean', default: false },
      server: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, file] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return command ? 0 : 2;
  }
  if ((command === 'run' || command === 'validate') && !file) {
    console.error(`sluice ${command}: which flow file?\n\n${USAGE}`);
    return 2;
  }
  if (['status', 'pause', 'resume', 'cancel', 'retry'].includes(command)) {
    if (!file) {
      console.error(`sluice ${command}: which run?\n\n${USAGE}`);
      return 2;
    }
    const server = values.server ?? process.env.SLUICE_URL ?? `http://localhost:${process.env.PORT || 3000}`;
    return control(command, file, server.replace(/\/+$/, ''), values.current ?? false);
  }
  if (command === 'validate') return validate(file as string);
  if (command === 'run') return run(file as string, values.json ?? false);
  console.error(`sluice: unknown command "${command}"\n\n${USAGE}`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`sluice: ${(err as Error).message}`);
    process.exit(1);
  },
);
