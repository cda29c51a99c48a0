// The PostgreSQL server the tests of the PostgreSQL stores make their databases on. Used by
// `npm test` (scripts/test.mjs): SLUICE_TEST_DATABASE_URL when set; else the server on
// 127.0.0.1:5432 when one answers; else a throwaway cluster (Debian's `postgresql` package installed
// if missing) in a temporary folder on a free port, stopped and removed at the end.
// SLUICE_TEST_PG=cluster starts the throwaway cluster even when a server answers (to try that path).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { run, say } from './lib.mjs';

const DEFAULT_HOST = '127.0.0.1';
const DEFAULT_PORT = 5432;

/** Whether something accepts connections on host:port (within a second). */
function answers(host, port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** A loopback port free right now. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, DEFAULT_HOST, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** The newest PostgreSQL installed as Debian lays it out (/usr/lib/postgresql/<version>/bin), if any. */
function postgresBin() {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(path.join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? path.join(root, versions[0], 'bin') : undefined;
}

function installPostgres() {
  say("installing Debian's PostgreSQL for the PostgreSQL store tests");
  const root = process.getuid?.() === 0;
  const apt = (args) =>
    root
      ? run('apt-get', args, { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })
      : run('sudo', ['env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', ...args]);
  if (apt(['update']) !== 0 || apt(['install', '-y', '--no-install-recommends', 'postgresql']) !== 0) {
    console.error(
      'Could not install PostgreSQL. Install it (apt-get install postgresql) or set SLUICE_TEST_DATABASE_URL ' +
        'to a server the tests may create databases on.',
    );
    process.exit(1);
  }
}

/**
 * Makes sure the tests have a PostgreSQL server. Returns the environment to run them with and a
 * `stop` to call once they are done (a no-op unless a throwaway cluster was started).
 */
export async function testPostgres() {
  const none = { env: {}, stop() {} };
  if (process.env.SLUICE_TEST_DATABASE_URL) return none;
  if (process.env.SLUICE_TEST_PG !== 'cluster' && (await answers(DEFAULT_HOST, DEFAULT_PORT))) return none;

  if (!postgresBin()) installPostgres();
  const bin = postgresBin();
  if (!bin) {
    console.error('PostgreSQL was installed, yet no /usr/lib/postgresql/<version>/bin/initdb was found.');
    process.exit(1);
  }
  // PostgreSQL refuses to run as root: as root, the cluster is the `postgres` user's
  const root = process.getuid?.() === 0;
  const as = (command, args) => (root ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args]);
  const dir = mkdtempSync(path.join(tmpdir(), 'sluice-pg-'));
  if (root) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    execFileSync('chown', [`${uid}:${gid}`, dir]);
  }
  const data = path.join(dir, 'data');
  const port = await freePort();
  say(`starting a throwaway PostgreSQL cluster on ${DEFAULT_HOST}:${port}`);
  const quiet = { stdio: ['ignore', 'ignore', 'inherit'] };
  const initdb = spawnSync(...as(path.join(bin, 'initdb'), ['-D', data, '--auth=trust', '-U', 'postgres']), quiet);
  const started =
    initdb.status === 0 &&
    spawnSync(
      ...as(path.join(bin, 'pg_ctl'), [
        '-D',
        data,
        '-l',
        path.join(dir, 'server.log'),
        '-w',
        '-o',
        `-p ${port} -k ${dir} -c listen_addresses=${DEFAULT_HOST}`,
        'start',
      ]),
      quiet,
    ).status === 0;
  const stop = () => {
    spawnSync(...as(path.join(bin, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', 'stop']), quiet);
    rmSync(dir, { recursive: true, force: true });
  };
  if (!started) {
    console.error(`Could not start a PostgreSQL cluster in ${dir} (its log: ${path.join(dir, 'server.log')}).`);
    process.exit(1);
  }
  return { env: { SLUICE_TEST_DATABASE_URL: `postgres://postgres@${DEFAULT_HOST}:${port}/postgres` }, stop };
}
