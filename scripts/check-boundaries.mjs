#!/usr/bin/env node
// Checks the boundaries between packages and folders (ARCHITECTURE.md, "Packages and boundaries") with
// dependency-cruiser: the module rules of .dependency-cruiser.cjs over every package, tests included,
// then the folder cycles of .dependency-cruiser.folders.cjs over the code without its tests, then the
// SQLite idioms no server source outside storage/sqlite/ may contain (a module rule cannot see SQL).
// Exits 1 on any error-level violation; prints them as `rule: from → to`.
// `--json` prints the violations as one JSON array instead ({ rule, severity, from, to, cycle? }).
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cruise } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PACKAGES = ['shared', 'engine', 'server', 'editor', 'tests'];
const CONFIGS = ['.dependency-cruiser.cjs', '.dependency-cruiser.folders.cjs'];

/** The violations one configuration finds, flattened to plain objects. */
async function violationsOf(config) {
  const options = await extractDepcruiseOptions(path.join(ROOT, config));
  const tsConfig = extractTSConfig(path.join(ROOT, options.tsConfig.fileName));
  const { output } = await cruise(PACKAGES, { ...options, outputType: 'json' }, undefined, { tsConfig });
  const result = typeof output === 'string' ? JSON.parse(output) : output;
  return result.summary.violations.map((v) => ({
    rule: v.rule.name,
    severity: v.rule.severity,
    from: v.from,
    to: v.to,
    ...(v.cycle ? { cycle: v.cycle.map((step) => step.name) } : {}),
  }));
}

/**
 * What only the SQLite implementation of the storage port may say: SQLite's row ids, its
 * statements, its locking and its error codes. Any of them elsewhere in the server's sources (tests
 * aside) is SQL that bypasses the port, or an SQLite error that leaked out of it.
 */
const SQLITE_ONLY = ['lastInsertRowid', 'INSERT OR ', 'BEGIN IMMEDIATE', 'SQLITE_'];

/** Server sources outside storage/sqlite/ (tests left out) that contain one of `SQLITE_ONLY`. */
function sqliteOutsideStorage() {
  const found = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const file = path.posix.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (file !== 'server/src/storage/sqlite') walk(file);
      } else if (/\.(ts|tsx|mjs|js)$/.test(file) && !/\.test\.tsx?$/.test(file)) {
        const text = readFileSync(file, 'utf8');
        for (const idiom of SQLITE_ONLY)
          if (text.includes(idiom))
            found.push({ rule: 'sqlite-idioms-only-in-storage-sqlite', severity: 'error', from: file, to: idiom });
      }
    }
  };
  walk('server/src');
  return found;
}

process.chdir(ROOT); // dependency-cruiser's paths, and the rules' patterns, are relative to the repository root
const violations = [];
for (const config of CONFIGS) violations.push(...(await violationsOf(config)));
violations.push(...sqliteOutsideStorage());
const errors = violations.filter((v) => v.severity === 'error');

if (process.argv.includes('--json')) {
  console.log(JSON.stringify(violations, null, 2));
} else {
  for (const v of violations) {
    const where = v.cycle ? [v.from, ...v.cycle].join(' → ') : `${v.from} → ${v.to}`;
    console.log(`${v.severity === 'error' ? 'error' : 'warn '} ${v.rule}: ${where}`);
  }
  console.log(
    errors.length
      ? `\nboundaries: ${errors.length} violation(s) (rules in ${CONFIGS.join(', ')} and ${path.basename(fileURLToPath(import.meta.url))})`
      : `boundaries: ok${violations.length ? ` (${violations.length} warning(s))` : ''}`,
  );
}
process.exitCode = errors.length ? 1 : 0;
