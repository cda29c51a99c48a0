import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { checkFlowForRun, type RunEvent } from '@sluice/engine';
import {
  type ApiClient,
  ApiClientError,
  CLIENT_ERROR_CODES,
  createApiClient,
  lesserRole,
  type Problem,
  ROLES,
  type Role,
  RUN_STATUSES,
  type RunCounts,
  type RunStatus,
} from '@sluice/shared';
import { asRole, TokenStore } from '../auth/tokens.js';
import { readConfig } from '../config.js';
import { createLogger, logLevelFrom } from '../logger.js';
import { runProcess } from '../serve.js';
import { openSluice } from '../sluice.js';
import { openStorage } from '../storage/open.js';
import { backupCommand, restoreCommand } from './backup.js';
import { secretsCommand } from './secrets.js';

const USAGE = `Usage:
  sluice serve [--no-worker]            start the server: API, editor, scheduler, and it executes runs (as
                                        npm start does, without building the editor); --no-worker: it
                                        executes none, runs wait for a worker (needs SLUICE_DATABASE_URL)
  sluice worker                         claim and execute runs, nothing else (needs SLUICE_DATABASE_URL);
                                        GET /health, /ready and /metrics on SLUICE_HEALTH_PORT (default: a
                                        free port, printed).
                                        Without SLUICE_SANDBOX_URL it starts its own sandbox systems
                                        (fine on one machine); else it uses those running there
  sluice run <flow.json> [--json] [--files DIR]
                                        run a flow file against the local database and sandbox systems;
                                        its file paths are relative to DIR (default: SLUICE_FILES_DIR, else
                                        the flow file's folder)
  sluice validate <flow.json>           print the problems of a flow file; exits 1 when there are errors
  sluice token create [name] [--role R] [--user EMAIL] [--expires-days N]
                                        make an API token (printed once) in the local database: a
                                        service token with role R (default admin), or one of the user
                                        with that e-mail (role: at most the user's; default theirs)
  sluice token list                     the tokens' names, prefixes, owners, roles and last use
  sluice secrets rotate                 re-seal every stored secret with a new key while the server runs;
                                        the old key works until it has finished, then is refused
  sluice secrets key                    the id and time of the key stored secrets are sealed with
  sluice backup <file>                  a consistent copy of the SQLite database, while the server runs
                                        (on PostgreSQL: says to use pg_dump, exits 2)
  sluice restore <file> [--force]       put a backup in place as the database of a stopped data folder
                                        (refused while a process uses it; --force replaces a database
                                        already there, keeping it beside)

  These talk to a running server (--server URL or SLUICE_URL; token from --token or SLUICE_API_TOKEN):
  sluice flows list                     flows with their versions
  sluice flows export <flowId> [file]   write a flow's document (latest, or --version N) as JSON
  sluice flows import <file> [--publish]  create a flow from a JSON file
  sluice runs list [--flow ID] [--status S] [--limit N]
  sluice runs show <runId>              a run's counts per node, batches and grouped errors
  sluice records history <key> --flow ID  what happened to one record in every run of a flow
  sluice status <runId>                 a run's status and counts
  sluice pause|resume|cancel <runId>    control a run
  sluice retry <runId> [--current]      retry its failed records

Environment: SLUICE_DATA_DIR (default ./data) holds the SQLite file; SLUICE_DATABASE_URL
(postgres://…) a PostgreSQL database to use instead, which any number of serve and worker processes
may share; SLUICE_SANDBOX_URL sandbox systems already running (pnpm sandbox), to share between
processes; SLUICE_LOG_LEVEL (default warn for sluice run) how much the server logs, to stderr.`;

/**
 * Calls the API of a running server; prints its error message (or how to reach it) and answers
 * undefined on failure, so each command only says what it does with the answer.
 */
async function attempt<T>(call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call();
  } catch (err) {
    if (!(err instanceof ApiClientError)) throw err;
    if (err.code === CLIENT_ERROR_CODES.network)
      console.error(`sluice: ${err.message} Start it with npm start, or pass --server.`);
    else console.error(`sluice: ${err.message}`);
    return undefined;
  }
}

const formatCounts = (c: RunCounts) =>
  `read ${c.read}, succeeded ${c.succeeded}, failed ${c.failed}, filtered ${c.filtered}, not processed ${c.cancelled}`;

async function control(command: ControlCommand, runId: string, client: ApiClient, current: boolean): Promise<number> {
  const params = { id: runId };
  if (command === 'status') {
    const run = await attempt(() => client.call('getRun', { params }));
    if (!run) return 1;
    console.log(`run ${runId} ${run.status}: ${formatCounts(run.counts)}`);
    if (run.waiting) console.log(`  waiting: ${JSON.stringify(run.waiting)}`);
    if (run.error) console.log(`  error: ${run.error}`);
    return 0;
  }
  if (command === 'retry') {
    const body = { version: current ? ('current' as const) : ('original' as const) };
    const answer = await attempt(() => client.call('retryRun', { params, body }));
    if (!answer) return 1;
    console.log(`retry run ${answer.runId} queued for the failed records of run ${runId}`);
    return 0;
  }
  const route = ({ pause: 'pauseRun', resume: 'resumeRun', cancel: 'cancelRun' } as const)[command];
  const answer = await attempt(() => client.call(route, { params }));
  if (!answer) return 1;
  console.log(`run ${runId}: ${answer.status}`);
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

/**
 * The files folder of a flow run from the command line: --files, else SLUICE_FILES_DIR, else the flow
 * file's own folder, so a flow file and the data beside it run as they are (`examples/` does).
 */
function cliFilesDir(flowFile: string, files: string | undefined, env: NodeJS.ProcessEnv): string {
  return path.resolve(files ?? (env.SLUICE_FILES_DIR || path.dirname(path.resolve(flowFile))));
}

async function run(file: string, json: boolean, files: string | undefined): Promise<number> {
  // With --json, stdout carries only the final JSON line; progress goes to stderr.
  const log = json ? (line: string) => console.error(line) : (line: string) => console.log(line);
  const checked = load(file, log);
  if (!checked?.ok || !checked.flow) {
    log('The flow has errors; nothing was run.');
    return 2;
  }
  const config = readConfig();
  const filesDir = cliFilesDir(file, files, process.env);
  // the server's diagnostics go to stderr (stdout is this command's output), warnings and worse unless
  // SLUICE_LOG_LEVEL says otherwise: the progress lines already say what a run does
  const logger = createLogger({ level: logLevelFrom(process.env, 'warn'), stderr: true });
  const sluice = await openSluice({ ...config, concurrency: 1, filesDir, logger });
  try {
    const flow = await sluice.flows.saveByName(checked.flow);
    const runId = await sluice.runner.enqueue(flow.id, 'cli');
    sluice.runner.start();
    log(
      `Run ${runId} of "${flow.name}" (version ${flow.latestVersion}), database ${config.dataDir}, files ${filesDir}`,
    );
    const progress = new Progress(json ? process.stderr : process.stdout, expectedTotal(checked.flow));
    sluice.runner.events.on('event', (event: RunEvent) => {
      if (event.runId === runId && event.type === 'batch') progress.update(event.batch.batchNo, event.counts);
    });
    const onSignal = () => {
      log('Cancelling…');
      sluice.runner.cancel(runId).catch(() => {});
    };
    process.once('SIGINT', onSignal);
    const result = await sluice.runner.wait(runId);
    process.off('SIGINT', onSignal);
    progress.end();
    const detail = await sluice.runs.get(runId);
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
    // the run's alerts are stored (pending); a server on the same database sends them
    await sluice.alerts.stop();
    sluice.closeHttp();
    await sluice.sandbox.close();
    await sluice.sql.close();
    await sluice.storage.close();
    await sluice.closeTracing();
  }
}

/** Records the flow will read when its sources say how many (generated or inline records); else unknown. */
function expectedTotal(flow: { nodes: { type: string; params: Record<string, unknown> }[] }): number | undefined {
  let total = 0;
  for (const n of flow.nodes) {
    if (n.type === 'generate') total += Number(n.params.count);
    else if (n.type === 'inline-records') total += (n.params.records as unknown[]).length;
    else if (['http-source', 'webhook', 'entity-source', 'file-source', 'sql-source'].includes(n.type))
      return undefined;
  }
  return total || undefined;
}

/**
 * Progress of a run: on a terminal, one line redrawn in place with a bar (when the total is known),
 * counts and the rate; otherwise a line per update, at most four a second.
 */
class Progress {
  private readonly started = Date.now();
  private last = 0;
  private drawn = false;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly total: number | undefined,
  ) {}

  update(batchNo: number, c: { read: number; succeeded: number; failed: number; filtered: number }): void {
    const now = Date.now();
    if (now - this.last < 250) return;
    this.last = now;
    const rate = Math.round((c.succeeded + c.failed + c.filtered) / Math.max(0.001, (now - this.started) / 1000));
    const counts = `read ${c.read}, succeeded ${c.succeeded}, failed ${c.failed}, filtered ${c.filtered}, ${rate} records/s`;
    if (!this.out.isTTY) {
      this.out.write(`  batch ${batchNo}: ${counts}\n`);
      return;
    }
    let bar = '';
    if (this.total) {
      const done = Math.min(1, (c.succeeded + c.failed + c.filtered) / this.total);
      const width = 24;
      bar = `[${'█'.repeat(Math.round(done * width)).padEnd(width, '·')}] ${Math.floor(done * 100)}% `;
    }
    this.out.write(`\r\x1b[2K  ${bar}batch ${batchNo}: ${counts}`);
    this.drawn = true;
  }

  end(): void {
    if (this.drawn) this.out.write('\n');
  }
}

async function tokens(
  sub: string | undefined,
  name: string | undefined,
  options: { role?: string | undefined; user?: string | undefined; expiresDays?: string | undefined },
): Promise<number> {
  const config = readConfig();
  const storage = await openStorage({ dataDir: config.dataDir, env: process.env });
  try {
    const store = new TokenStore(storage.tokens, undefined, Date.now, storage.users);
    if (sub === 'create') {
      if (options.role !== undefined && !(ROLES as readonly string[]).includes(options.role)) {
        console.error(`sluice token create: --role must be one of ${ROLES.join(', ')}`);
        return 2;
      }
      const days = options.expiresDays === undefined ? undefined : Number(options.expiresDays);
      if (days !== undefined && !(Number.isInteger(days) && days >= 1 && days <= 3650)) {
        console.error('sluice token create: --expires-days must be a whole number of days from 1 to 3650');
        return 2;
      }
      let role = options.role as Role | undefined;
      let userId: string | undefined;
      if (options.user !== undefined) {
        const user = await storage.users.findByEmail(options.user.trim().toLowerCase());
        if (!user) {
          console.error(`sluice token create: no user with the e-mail ${options.user}`);
          return 2;
        }
        const theirs = asRole(user.role);
        if (role !== undefined && lesserRole(role, theirs) !== role) {
          console.error(
            `sluice token create: ${user.email} is ${theirs}; a token of theirs acts with at most that role`,
          );
          return 2;
        }
        role ??= theirs;
        userId = user.id;
      }
      const { token, info } = await store.create(name ?? 'cli', {
        ...(role ? { role } : {}),
        ...(userId ? { userId } : {}),
        ...(days ? { expiresInDays: days } : {}),
      });
      console.log(token);
      console.error(
        `Token "${info.name}" made (${info.prefix}…, role ${info.role}${userId ? ` of ${options.user}` : ', a service token'}${info.expiresAt ? `, until ${info.expiresAt}` : ''}); it is shown this once. Send it as Authorization: Bearer <token>.`,
      );
      return 0;
    }
    if (sub === 'list') {
      for (const t of await store.list())
        console.log(
          `${t.id}\t${t.prefix}…\t${t.name}\t${t.role}\t${t.userId ?? 'service'}\tcreated ${t.createdAt}\tlast used ${t.lastUsedAt ?? 'never'}${t.expiresAt ? `\texpires ${t.expiresAt}` : ''}`,
        );
      return 0;
    }
    console.error(`sluice token: create or list?\n\n${USAGE}`);
    return 2;
  } finally {
    await storage.close();
  }
}

const CONTROL_COMMANDS = ['status', 'pause', 'resume', 'cancel', 'retry'] as const;
type ControlCommand = (typeof CONTROL_COMMANDS)[number];
const isControlCommand = (c: string): c is ControlCommand => (CONTROL_COMMANDS as readonly string[]).includes(c);
const isRunStatus = (s: string): s is RunStatus => (RUN_STATUSES as readonly string[]).includes(s);

type Values = { flow?: string; status?: string; limit?: string; version?: string; publish?: boolean };

async function remote(client: ApiClient, command: string, args: string[], values: Values): Promise<number> {
  const [sub, arg, arg2] = args;
  if (command === 'flows' && sub === 'list') {
    const answer = await attempt(() => client.call('listFlows'));
    if (!answer) return 1;
    for (const f of answer.items)
      console.log(
        `${f.id}\t${f.name}\tv${f.latestVersion}\tpublished ${f.publishedVersion ? `v${f.publishedVersion}` : '-'}\t${f.enabled ? 'enabled' : 'disabled'}`,
      );
    return 0;
  }
  if (command === 'flows' && sub === 'export' && arg) {
    const version = values.version === undefined ? undefined : Number(values.version);
    const answer = await attempt(() => client.call('getFlow', { params: { id: arg }, query: { version } }));
    if (!answer) return 1;
    const text = `${JSON.stringify(answer.document, null, 2)}\n`;
    if (arg2) {
      writeFileSync(arg2, text);
      console.error(`Wrote version ${answer.version} of "${answer.name}" to ${arg2}`);
    } else process.stdout.write(text);
    return 0;
  }
  if (command === 'flows' && sub === 'import' && arg) {
    let doc: unknown;
    try {
      doc = JSON.parse(readFileSync(arg, 'utf8'));
    } catch (err) {
      console.error(`sluice: ${arg}: ${(err as Error).message}`);
      return 1;
    }
    const created = await attempt(() => client.call('createFlow', { body: doc }));
    if (!created) return 1;
    for (const p of created.problems) console.log(formatProblem(p));
    console.log(`Imported "${created.name}" as ${created.id} (version 1)`);
    if (values.publish) {
      const published = await attempt(() => client.call('publishFlow', { params: { id: created.id }, body: {} }));
      if (!published) return 1;
      console.log('Published version 1');
    }
    return 0;
  }
  if (command === 'runs' && sub === 'list') {
    if (values.status !== undefined && !isRunStatus(values.status)) {
      console.error(`sluice runs list: --status must be one of ${RUN_STATUSES.join(', ')}`);
      return 2;
    }
    const query = { flowId: values.flow, status: values.status, limit: Number(values.limit ?? 20) };
    const answer = await attempt(() => client.call('listRuns', { query }));
    if (!answer) return 1;
    for (const r of answer.items)
      console.log(
        `${r.id}\t${r.status.padEnd(9)}\t${r.trigger.padEnd(8)}\t${r.createdAt}\tread ${r.counts.read}, failed ${r.counts.failed}\t${r.flowName}`,
      );
    return 0;
  }
  if (command === 'runs' && sub === 'show' && arg) {
    const params = { id: arg };
    const run = await attempt(() => client.call('getRun', { params }));
    const errors = run && (await attempt(() => client.call('errorGroups', { params, query: { limit: 10 } })));
    if (!run || !errors) return 1;
    console.log(
      `Run ${run.id} of "${run.flowName}" v${run.flowVersion}: ${run.status} (${run.trigger}), created ${run.createdAt}`,
    );
    console.log(`  ${formatCounts(run.counts)}`);
    for (const [node, n] of Object.entries(run.nodeCounts))
      console.log(
        `  ${node.padEnd(20)} in ${n.in}, out ${n.out}, error ${n.error}, filtered ${n.filtered}${n.cacheHits ? `, cached ${n.cacheHits}` : ''}`,
      );
    console.log(`  ${run.batches.length} batch(es)`);
    for (const e of errors.items) console.log(`  ${String(e.count).padStart(6)} × ${e.nodeId}: ${e.message}`);
    return 0;
  }
  if (command === 'records' && sub === 'history' && arg) {
    const flowId = values.flow;
    if (!flowId) {
      console.error('sluice records history: which flow? (--flow <flowId>)');
      return 2;
    }
    const answer = await attempt(() => client.call('recordHistory', { params: { id: flowId, key: arg } }));
    if (!answer) return 1;
    if (!answer.items.length) console.log(`No run of ${flowId} has seen a record with key "${arg}".`);
    for (const h of answer.items)
      console.log(
        `run ${h.runId}\t${h.at}\t${h.status.padEnd(9)}\tat ${h.nodeId}, ${h.attempts} attempt(s)${h.error ? `\t${h.error.message}` : ''}`,
      );
    return 0;
  }
  console.error(`sluice: unknown command "${[command, ...args].join(' ')}"\n\n${USAGE}`);
  return 2;
}

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    // --no-worker
    allowNegative: true,
    options: {
      json: { type: 'boolean', default: false },
      current: { type: 'boolean', default: false },
      server: { type: 'string' },
      token: { type: 'string' },
      flow: { type: 'string' },
      status: { type: 'string' },
      limit: { type: 'string' },
      version: { type: 'string' },
      publish: { type: 'boolean', default: false },
      files: { type: 'string' },
      worker: { type: 'boolean', default: true },
      force: { type: 'boolean', default: false },
      role: { type: 'string' },
      user: { type: 'string' },
      'expires-days': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, file] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return command ? 0 : 2;
  }
  const server = (values.server ?? process.env.SLUICE_URL ?? `http://localhost:${process.env.PORT || 3000}`).replace(
    /\/+$/,
    '',
  );
  // the client holds the token; each command that talks to the server is given the client
  const client = createApiClient({ baseUrl: server, token: values.token ?? process.env.SLUICE_API_TOKEN ?? null });
  if (command === 'serve' || command === 'worker') {
    // the process runs until a signal stops it (and exits from there)
    await runProcess(command === 'worker' ? 'worker' : values.worker ? 'all' : 'api');
    return new Promise<number>(() => {});
  }
  if (command === 'token') {
    return tokens(file, positionals[2], { role: values.role, user: values.user, expiresDays: values['expires-days'] });
  }
  if (command === 'secrets') return secretsCommand(file, USAGE);
  if ((command === 'backup' || command === 'restore') && !file) {
    console.error(`sluice ${command}: which file?\n\n${USAGE}`);
    return 2;
  }
  if (command === 'backup') return backupCommand(file as string, process.env);
  if (command === 'restore') return restoreCommand(file as string, process.env, values.force ?? false);
  if (['flows', 'runs', 'records'].includes(command)) return remote(client, command, positionals.slice(1), values);
  if ((command === 'run' || command === 'validate') && !file) {
    console.error(`sluice ${command}: which flow file?\n\n${USAGE}`);
    return 2;
  }
  if (isControlCommand(command)) {
    if (!file) {
      console.error(`sluice ${command}: which run?\n\n${USAGE}`);
      return 2;
    }
    return control(command, file, client, values.current ?? false);
  }
  if (command === 'validate') return validate(file as string);
  if (command === 'run') return run(file as string, values.json ?? false, values.files);
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
