import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from './server.js';

/**
 * The built server (server/dist/sluice.mjs) that `server/bin/sluice` runs, made again before the
 * tests when a source is newer than it: tests that run the command as a user does (the examples, the
 * built server's start) then run the code under test, also when vitest is run without `npm test`.
 */
export default function setup(): void {
  execFileSync(process.execPath, [path.join(REPO_ROOT, 'scripts', 'build-server.mjs'), '--if-changed', '--quiet'], {
    stdio: 'inherit',
  });
}
