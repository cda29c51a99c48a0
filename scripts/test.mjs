// `npm test`: install what is missing (pnpm, dependencies, Debian's Chromium, a PostgreSQL and a MariaDB server),
// then typecheck, lint and run every test. The exit code is the first failure's.
import { existsSync } from 'node:fs';
import { bin, bootstrap, buildEditor, buildServerIfChanged, run, say } from './lib.mjs';
import { testMysql } from './test-mysql.mjs';
import { testPostgres } from './test-postgres.mjs';

const CHROMIUM = process.env.SLUICE_CHROMIUM || '/usr/bin/chromium';

function ensureChromium() {
  if (existsSync(CHROMIUM)) return;
  say("installing Debian's Chromium for the browser tests");
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  const prefix = root ? [] : ['sudo'];
  const apt = (args) =>
    run(prefix[0] ?? 'apt-get', [...prefix.slice(1), ...(root ? [] : ['apt-get']), ...args], {
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  if (
    apt(['update']) !== 0 ||
    apt(['install', '-y', '--no-install-recommends', 'chromium', 'fonts-liberation']) !== 0
  ) {
    console.error(
      `Could not install Chromium. Install it (apt-get install chromium) or set SLUICE_CHROMIUM to a Chromium binary.`,
    );
    process.exit(1);
  }
}

const pnpm = bootstrap();
ensureChromium();
buildEditor(pnpm);
await buildServerIfChanged();

say('typecheck and lint');
let code = run(pnpm[0], [...pnpm.slice(1), 'run', 'check:only']);
if (code !== 0) process.exit(code);

const postgres = await testPostgres();
let mysql;
try {
  mysql = await testMysql();
  say('tests');
  code = run(bin('vitest'), ['run', ...process.argv.slice(2)], {
    env: { ...process.env, ...postgres.env, ...mysql.env },
  });
} finally {
  mysql?.stop();
  postgres.stop();
}
process.exit(code);
