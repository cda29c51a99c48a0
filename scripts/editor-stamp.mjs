// Whether the built editor (editor/dist) is older than its sources, so `npm start` builds it only
// when something it is built from changed. Plain Node, no dependencies: it runs before anything is installed.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** What the editor's build reads: its sources and config, shared/ (the editor imports it) and the locked versions. */
export const EDITOR_INPUTS = [
  'editor/src',
  'editor/index.html',
  'editor/vite.config.ts',
  'editor/package.json',
  'editor/tsconfig.json',
  'shared/src',
  'shared/package.json',
  'pnpm-lock.yaml',
];

/** Written into editor/dist after a build: the hash of the inputs it was built from. */
export const EDITOR_STAMP = path.join('editor', 'dist', '.sources-hash');

/**
 * A hash of the inputs' paths and contents. Contents rather than modification times: a checkout or
 * a copy changes times without changing what the build would produce. Hashing the editor's and
 * shared's sources takes a few milliseconds.
 */
export function editorSourcesHash(root, inputs = EDITOR_INPUTS) {
  const hash = createHash('sha256');
  const files = [];
  const walk = (relative) => {
    const full = path.join(root, relative);
    if (!existsSync(full)) return;
    if (statSync(full).isDirectory()) {
      for (const name of readdirSync(full)) if (name !== 'node_modules') walk(path.join(relative, name));
    } else files.push(relative);
  };
  for (const input of inputs) walk(input);
  for (const file of files.sort()) {
    hash.update(file.split(path.sep).join('/'));
    hash.update('\0');
    hash.update(readFileSync(path.join(root, file)));
    hash.update('\0');
  }
  return hash.digest('hex');
}

/** True when editor/dist is missing, was not stamped, or was built from other sources than these. */
export function editorIsStale(root, inputs = EDITOR_INPUTS) {
  const stamp = path.join(root, EDITOR_STAMP);
  if (!existsSync(path.join(root, 'editor', 'dist', 'index.html')) || !existsSync(stamp)) return true;
  return readFileSync(stamp, 'utf8').trim() !== editorSourcesHash(root, inputs);
}

/** Records that editor/dist was built from the given sources' hash (taken before the build started). */
export function stampEditor(root, hash) {
  writeFileSync(path.join(root, EDITOR_STAMP), `${hash}\n`);
}
