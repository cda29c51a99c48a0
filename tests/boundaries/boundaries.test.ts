import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The boundary check (`scripts/check-boundaries.mjs`, run by `pnpm run check`) bites: files with a
 * forbidden import, dropped into the packages for the time of one run, each fail it under the rule
 * they break; and the tree as committed passes it.
 */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

interface Violation {
  rule: string;
  severity: 'error' | 'warn' | 'info';
  from: string;
  to: string;
  cycle?: string[];
}

/** Runs the check as `pnpm run check` does, reading its violations as JSON. */
function check(): Promise<{ code: number; violations: Violation[] }> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['scripts/check-boundaries.mjs', '--json'],
      { cwd: ROOT, maxBuffer: 16 << 20 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        try {
          resolve({ code, violations: JSON.parse(stdout) as Violation[] });
        } catch {
          reject(new Error(`the check printed no JSON (exit ${code}): ${stderr || stdout}`));
        }
      },
    );
  });
}

// A name no real file has, unique to this run, so a probe left behind by a killed run is recognisable.
const PROBE = `__boundary-probe-${process.pid}`;

/** Each probe: a file, its source, and the violations (rule → what it imports) it must cause. */
const probes: { file: string; source: string; expected: { rule: string; to: RegExp }[] }[] = [
  {
    file: `shared/src/${PROBE}.ts`,
    source:
      "import { readFileSync } from 'node:fs';\nimport { startRun } from '../../engine/src/index.js';\nexport const probe = [readFileSync, startRun];\n",
    expected: [
      { rule: 'shared-no-node-builtins', to: /^(node:)?fs$/ },
      { rule: 'shared-only-zod', to: /^engine\/src\/index\.ts$/ },
    ],
  },
  {
    file: `engine/src/${PROBE}.ts`,
    source:
      "import Database from 'better-sqlite3';\nimport { hostname } from 'node:os';\nexport const probe = [Database, hostname];\n",
    expected: [
      { rule: 'engine-only-shared-and-its-libraries', to: /better-sqlite3/ },
      { rule: 'engine-no-node-builtins', to: /^(node:)?os$/ },
    ],
  },
  {
    file: `server/src/runs/${PROBE}.ts`,
    source: "import { createApp } from '../http/app.js';\nexport const probe = createApp;\n",
    expected: [{ rule: 'server-domain-no-http', to: /^server\/src\/http\/app\.ts$/ }],
  },
  {
    // PostgreSQL is spoken by its store alone
    file: `server/src/runs/${PROBE}-pg.ts`,
    source:
      "import pg from 'pg';\nimport { pgTable } from 'drizzle-orm/pg-core';\nexport const probe = [pg, pgTable];\n",
    expected: [
      { rule: 'postgres-only-in-its-store', to: /node_modules\/pg\// },
      { rule: 'postgres-only-in-its-store', to: /node_modules\/drizzle-orm\/pg-core\// },
    ],
  },
  {
    // only the SQLite implementation of the storage port speaks to SQLite, in imports and in SQL
    file: `server/src/runs/${PROBE}-sql.ts`,
    source:
      "import Database from 'better-sqlite3';\nexport const probe = (c: Database.Database) => c.prepare('INSERT OR IGNORE INTO runs DEFAULT VALUES').run().lastInsertRowid;\n",
    expected: [
      { rule: 'sqlite-only-in-storage-sqlite', to: /better-sqlite3/ },
      { rule: 'sqlite-idioms-only-in-storage-sqlite', to: /^INSERT OR $/ },
      { rule: 'sqlite-idioms-only-in-storage-sqlite', to: /^lastInsertRowid$/ },
    ],
  },
  {
    file: `editor/src/lib/${PROBE}.ts`,
    source: "import { notFound } from '../../../server/src/errors.js';\nexport const probe = notFound;\n",
    expected: [{ rule: 'editor-no-server-or-engine', to: /^server\/src\/errors\.ts$/ }],
  },
  {
    // of the engine, the editor may use only its browser-safe expression entry
    file: `editor/src/components/${PROBE}.ts`,
    source:
      "import { checkExpression } from '@sluice/engine/expressions';\nimport { startRun } from '@sluice/engine';\nexport const probe = [checkExpression, startRun];\n",
    expected: [{ rule: 'editor-no-server-or-engine', to: /^engine\/src\/index\.ts$/ }],
  },
];

describe('the boundary check', () => {
  it('fails on a forbidden import in each package, naming the rule it breaks', async () => {
    // flows/ checks schedule nodes with schedules/cron.ts: schedules/ importing flows/ closes a cycle
    const cycle = {
      file: `server/src/schedules/${PROBE}.ts`,
      source: "import type { FlowRepository } from '../flows/repository.js';\nexport type Probe = FlowRepository;\n",
    };
    try {
      for (const p of [...probes, cycle]) {
        mkdirSync(path.dirname(path.join(ROOT, p.file)), { recursive: true });
        writeFileSync(path.join(ROOT, p.file), p.source);
      }
      const { code, violations } = await check();
      expect(code).toBe(1);
      for (const probe of probes) {
        for (const { rule, to } of probe.expected) {
          const found = violations.filter((v) => v.from === probe.file && v.rule === rule && v.severity === 'error');
          expect(
            found.map((v) => v.to),
            `${probe.file} breaks ${rule}`,
          ).toContainEqual(expect.stringMatching(to));
        }
      }
      expect(violations.filter((v) => v.to === 'engine/src/expressions-entry.ts')).toEqual([]);
      const folderCycle = violations.find(
        (v) => v.rule === 'no-cycle-between-folders' && [v.from, ...(v.cycle ?? [])].includes('server/src/schedules'),
      );
      expect(folderCycle?.severity, 'schedules/ → flows/ → schedules/ is a folder cycle').toBe('error');
      expect([folderCycle?.from, ...(folderCycle?.cycle ?? [])]).toContain('server/src/flows');
    } finally {
      for (const p of [...probes, cycle]) rmSync(path.join(ROOT, p.file), { force: true });
    }
  });

  // Fails while the engine still hashes with node:crypto (engine-no-node-builtins on record-key.ts):
  // the engine's move to an injected hash port removes that import.
  it('passes on the tree as it is', async () => {
    const { code, violations } = await check();
    expect(violations.filter((v) => v.severity === 'error')).toEqual([]);
    expect(code).toBe(0);
  });
});
