// Builds the server, its CLI and its worker into one JavaScript file, server/dist/sluice.mjs, which
// `server/bin/sluice` runs (npm start does, through it). The TypeScript of server/, engine/ and shared/
// is bundled with the packages they use, but for a few that must load from server/node_modules
// (EXTERNAL below). The
// worker threads' scripts (*.mjs) and the migrations are read from the server's folder, where
// server/src/paths.ts finds them from the build as from the sources.
//
//   node scripts/build-server.mjs             build
//   node scripts/build-server.mjs --if-changed  build only when a source is newer than the build
import { readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SERVER = path.join(ROOT, 'server');
export const SERVER_BUILD = path.join(SERVER, 'dist', 'sluice.mjs');

/** The newest modification time among a folder's files (node_modules and builds left out). */
function newest(dir) {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'dist') continue;
    const full = path.join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(full) : statSync(full).mtimeMs);
  }
  return latest;
}

/** Whether a source (or a package manifest) changed since the last build. */
export function serverIsStale() {
  let built;
  try {
    built = statSync(SERVER_BUILD).mtimeMs;
  } catch {
    return true;
  }
  const sources = ['server', 'engine', 'shared'].map((p) => newest(path.join(ROOT, p, 'src')));
  const manifests = ['server', 'engine', 'shared'].map((p) => statSync(path.join(ROOT, p, 'package.json')).mtimeMs);
  return Math.max(...sources, ...manifests, statSync(fileURLToPath(import.meta.url)).mtimeMs) > built;
}

/**
 * The packages left out of the bundle, loaded from server/node_modules: native modules (SQLite, argon2), one that
 * loads its WebAssembly by file name, the logger (its transports run by module name on a thread) and
 * pg's optional native binding. Everything else is bundled: a start that loads one file rather than
 * the thousand small modules of zod, drizzle-orm, hono or mysql2 is about twice as quick.
 */
const EXTERNAL = [
  'better-sqlite3',
  '@node-rs/argon2',
  'quickjs-emscripten',
  '@jitl',
  'pino',
  'pino-pretty',
  'pg-native',
];

export async function buildServer() {
  const esbuild = createRequire(path.join(SERVER, 'package.json'))('esbuild');
  await esbuild.build({
    entryPoints: [path.join(SERVER, 'src', 'cli', 'main.ts')],
    outfile: SERVER_BUILD,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    external: EXTERNAL.flatMap((name) => [name, `${name}/*`]),
    // the bundled CommonJS packages of engine/ and shared/ call require for Node's own modules
    banner: {
      js: "import { createRequire as __sluiceRequire } from 'node:module';\nconst require = __sluiceRequire(import.meta.url);",
    },
    sourcemap: 'linked',
    logLevel: 'warning',
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--if-changed') && !serverIsStale()) process.exit(0);
  const t0 = performance.now();
  await buildServer();
  if (!process.argv.includes('--quiet'))
    console.log(`built ${path.relative(ROOT, SERVER_BUILD)} in ${Math.round(performance.now() - t0)} ms`);
}
