import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * Where the files the server reads at run time are: its migrations, its worker threads' scripts, the
 * examples and the built editor. Every such path is made here, from this module's own address, and
 * nowhere else: this file sits one folder below the server package both in the sources
 * (`src/paths.ts`) and in the build (`dist/sluice.mjs`, into which it is bundled), so the same code
 * finds the same files whether the server runs from TypeScript or from its build.
 */

/** The server package's folder (`server/`). */
export const SERVER_ROOT = fileURLToPath(new URL('../', import.meta.url));

/** The repository root (where README.md, examples/ and editor/ live). */
export const REPO_ROOT = path.resolve(SERVER_ROOT, '..');

/** The SQLite migrations (drizzle-kit's output). */
export const MIGRATIONS_OF_SQLITE = path.join(SERVER_ROOT, 'drizzle');

/** The PostgreSQL migrations. */
export const MIGRATIONS_OF_POSTGRES = path.join(SERVER_ROOT, 'drizzle-postgres');

/**
 * A worker thread's script. They are plain JavaScript modules kept beside the code that starts them
 * (`src/…/*.mjs`), loaded as they are in both cases: the build does not bundle them.
 */
export function threadScript(relative: `${string}.mjs`): URL {
  return pathToFileURL(path.join(SERVER_ROOT, 'src', relative));
}
