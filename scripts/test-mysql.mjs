// The MySQL/MariaDB server the tests of the SQL connector and the SQL flows make their databases on.
// Used by `npm test` (scripts/test.mjs), as test-postgres.mjs is for PostgreSQL: SLUICE_TEST_MYSQL_URL
// when set; else the server on 127.0.0.1:3306 when one answers; else a throwaway MariaDB (Debian's
// `mariadb-server` installed if missing) in a temporary folder on a free port, stopped and removed at
// the end. SLUICE_TEST_MYSQL=server starts the throwaway server even when one answers (to try that path).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { run, say } from './lib.mjs';

const HOST = '127.0.0.1';
const PORT = 3306;
const MARIADBD = ['/usr/sbin/mariadbd', '/usr/sbin/mysqld'];
const INSTALL_DB = ['/usr/bin/mariadb-install-db', '/usr/bin/mysql_install_db'];
const CLIENT = ['/usr/bin/mariadb', '/usr/bin/mysql'];

const found = (paths) => paths.find((p) => existsSync(p));

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

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function installMariadb() {
  say("installing Debian's MariaDB for the SQL connector tests");
  const root = process.getuid?.() === 0;
  const apt = (args) =>
    root
      ? run('apt-get', args, { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })
      : run('sudo', ['env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', ...args]);
  if (apt(['update']) !== 0 || apt(['install', '-y', '--no-install-recommends', 'mariadb-server']) !== 0) {
    console.error(
      'Could not install MariaDB. Install it (apt-get install mariadb-server) or set SLUICE_TEST_MYSQL_URL ' +
        'to a server the tests may create databases on (mysql://user:password@host:port/).',
    );
    process.exit(1);
  }
}

/**
 * Makes sure the tests have a MySQL/MariaDB server. Returns the environment to run them with and a
 * `stop` to call once they are done (a no-op unless a throwaway server was started).
 */
export async function testMysql() {
  const none = { env: {}, stop() {} };
  if (process.env.SLUICE_TEST_MYSQL_URL) return none;
  if (process.env.SLUICE_TEST_MYSQL !== 'server' && (await answers(HOST, PORT))) return none;

  if (!found(MARIADBD) || !found(INSTALL_DB)) installMariadb();
  const daemon = found(MARIADBD);
  const installDb = found(INSTALL_DB);
  const client = found(CLIENT);
  if (!daemon || !installDb || !client) {
    console.error('MariaDB was installed, yet mariadbd, mariadb-install-db or the mariadb client was not found.');
    process.exit(1);
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'sluice-mariadb-'));
  const data = path.join(dir, 'data');
  const socket = path.join(dir, 'mariadb.sock');
  const pidFile = path.join(dir, 'mariadb.pid');
  const port = await freePort();
  const root = process.getuid?.() === 0;
  const user = root ? ['--user=root'] : [];
  say(`starting a throwaway MariaDB server on ${HOST}:${port}`);
  const quiet = { stdio: ['ignore', 'ignore', 'inherit'] };
  const installed = spawnSync(
    installDb,
    ['--no-defaults', `--datadir=${data}`, '--auth-root-authentication-method=normal', '--skip-test-db', ...user],
    quiet,
  );
  if (installed.status !== 0) {
    console.error(`Could not create a MariaDB data folder in ${data}.`);
    process.exit(1);
  }
  const server = spawn(
    daemon,
    [
      '--no-defaults',
      `--datadir=${data}`,
      `--socket=${socket}`,
      `--port=${port}`,
      `--bind-address=${HOST}`,
      `--pid-file=${pidFile}`,
      `--log-error=${path.join(dir, 'error.log')}`,
      '--skip-name-resolve',
      ...user,
    ],
    { stdio: 'ignore', detached: false },
  );
  const stop = () => {
    server.kill('SIGTERM');
    // the server removes its pid file once it has shut down (up to 30 s); only then is its folder free
    spawnSync('sh', ['-c', `for i in $(seq 1 300); do [ -e "${pidFile}" ] || exit 0; sleep 0.1; done`]);
    rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  };
  const deadline = Date.now() + 60_000;
  while (!(await answers(HOST, port))) {
    if (Date.now() > deadline || server.exitCode !== null) {
      console.error(`Could not start MariaDB in ${dir} (its log: ${path.join(dir, 'error.log')}).`);
      process.exit(1);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  // root may connect over TCP from loopback without a password, as on the development machines
  const grant =
    "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY ''; GRANT ALL ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;";
  if (spawnSync(client, ['--no-defaults', `--socket=${socket}`, '-u', 'root', '-e', grant], quiet).status !== 0) {
    stop();
    console.error('Could not let root connect to the throwaway MariaDB over loopback.');
    process.exit(1);
  }
  return { env: { SLUICE_TEST_MYSQL_URL: `mysql://root@${HOST}:${port}/` }, stop };
}
