// Helpers for the two README commands. Plain Node, no dependencies: they run before anything is installed.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildServer, serverIsStale } from './build-server.mjs';
import { editorIsStale, editorSourcesHash, stampEditor } from './editor-stamp.mjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const PNPM_VERSION = '12.4.2';

export function say(message) {
  console.log(`\x1b[36m›\x1b[0m ${message}`);
}

/** Runs a command in the repository root, inheriting the terminal; returns its exit code. */
export function run(command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: ROOT, stdio: 'inherit', ...options });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

function output(command, args) {
  const result = spawnSync(command, args, { cwd: ROOT, encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

/** The command that runs pnpm at the pinned version, installing it with npm when it is missing. */
export function ensurePnpm() {
  if (output('pnpm', ['--version']) === PNPM_VERSION) return ['pnpm'];
  say(`installing pnpm ${PNPM_VERSION} with npm`);
  if (
    run('npm', ['install', '--global', `pnpm@${PNPM_VERSION}`]) === 0 &&
    output('pnpm', ['--version']) === PNPM_VERSION
  ) {
    return ['pnpm'];
  }
  say(`could not install pnpm globally; using npx pnpm@${PNPM_VERSION}`);
  return ['npx', '--yes', `pnpm@${PNPM_VERSION}`];
}

/** Installs pnpm and the locked dependencies (fast when they are already there). */
export function bootstrap() {
  const pnpm = ensurePnpm();
  const fresh = !existsSync(path.join(ROOT, 'node_modules', '.modules.yaml'));
  if (fresh) say('installing dependencies (the first time compiles the SQLite driver: about two minutes)');
  const code = run(pnpm[0], [...pnpm.slice(1), 'install', '--frozen-lockfile']);
  if (code !== 0) process.exit(code);
  return pnpm;
}

/**
 * Builds the editor into editor/dist and stamps it with the hash of its sources. With `ifChanged`,
 * skips the build (about 7 s) when the stamp says the sources are those of the last build.
 */
export function buildEditor(pnpm, { ifChanged = false } = {}) {
  if (ifChanged && !editorIsStale(ROOT)) {
    say('the editor is built from the current sources');
    return;
  }
  // hashed before building: a source edited during the build makes the next start build again
  const hash = editorSourcesHash(ROOT);
  say('building the editor');
  const code = run(pnpm[0], [...pnpm.slice(1), '--filter', '@sluice/editor', 'build']);
  if (code !== 0) process.exit(code);
  stampEditor(ROOT, hash);
}

/** Builds the server into server/dist (scripts/build-server.mjs) unless the build is newer than its sources. */
export async function buildServerIfChanged() {
  if (!serverIsStale()) {
    say('the server is built from the current sources');
    return;
  }
  say('building the server');
  await buildServer();
}

/** The local binary of a dependency. */
export function bin(name) {
  return path.join(ROOT, 'node_modules', '.bin', name);
}
