/**
 * The boundaries between Sluice's packages and folders, checked by `pnpm run check`
 * (ARCHITECTURE.md, "Packages and boundaries"). Paths are relative to the repository root; workspace
 * packages (`@sluice/shared`, …) resolve through pnpm's links to their real files, so a rule sees
 * `shared/src/index.ts`, not a package name.
 */

/** A test file: tests may use their runner and fixtures that production code may not. */
const TEST = '\\.test\\.tsx?$';
/** A package, by name (pnpm keeps its real files under node_modules/.pnpm/<id>/node_modules/<name>/). */
const npm = (...names) => `(^|/)node_modules/(${names.join('|')})/`;
/** Server code that speaks HTTP or wires the process together; everything else in server/src is domain code. */
const SERVER_EDGE = '^server/src/(http/|cli/|sluice\\.ts$|main\\.ts$|index\\.ts$)';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'shared-no-node-builtins',
      comment: 'shared/ is read by the browser, the engine and the server: no Node.js module.',
      severity: 'error',
      from: { path: '^shared/src/', pathNot: TEST },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'shared-only-zod',
      comment: 'shared/ depends on zod alone: no other package, none of ours.',
      severity: 'error',
      from: { path: '^shared/src/', pathNot: TEST },
      to: { dependencyTypesNot: ['core'], pathNot: [`^shared/src/`, npm('zod')] },
    },
    {
      name: 'engine-no-node-builtins',
      comment: 'The engine is runtime-neutral: time, hashing, files and HTTP come through its ports.',
      severity: 'error',
      from: { path: '^engine/src/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'engine-only-shared-and-its-libraries',
      comment: 'The engine imports shared/ and the libraries it declares (tests also their runner and fast-check).',
      severity: 'error',
      from: { path: '^engine/src/', pathNot: TEST },
      to: { dependencyTypesNot: ['core'], pathNot: ['^engine/src/', '^shared/src/', npm('xstate', 'jsonata')] },
    },
    {
      name: 'engine-tests-only-shared-and-their-libraries',
      comment: 'Engine tests may add vitest and fast-check, nothing of the server or the editor.',
      severity: 'error',
      from: { path: `^engine/src/.*${TEST}` },
      to: {
        dependencyTypesNot: ['core'],
        pathNot: ['^engine/src/', '^shared/src/', npm('xstate', 'jsonata', 'vitest', 'fast-check', '@vitest')],
      },
    },
    {
      name: 'editor-no-server-or-engine',
      comment:
        'The editor talks to the server over HTTP and shares @sluice/shared with it; of the engine it may use only ' +
        'the browser-safe expression entry (@sluice/engine/expressions), so expressions have one implementation.',
      severity: 'error',
      from: { path: '^editor/' },
      to: {
        path: ['^server/', '^engine/', '^tests/', npm('@sluice/server', '@sluice/engine')],
        pathNot: '^engine/src/expressions-entry\\.ts$',
      },
    },
    {
      name: 'server-domain-no-http',
      comment:
        'Domain code throws domain errors (server/src/errors.ts); only http/ knows statuses and requests. ' +
        'Its tests may drive the whole app through http/test-support.',
      severity: 'error',
      from: { path: '^server/src/', pathNot: [SERVER_EDGE, TEST] },
      to: { path: '^server/src/http/' },
    },
    {
      name: 'postgres-only-in-its-store',
      comment:
        'PostgreSQL is one implementation of the storage port (server/src/storage/port.ts): only ' +
        'server/src/storage/postgres/ speaks to it, so the rest of the server works the same on either database. ' +
        'The SQL connector (server/src/connectors/sql/) speaks to the databases flows read and write, which are ' +
        'not the storage; its tests and the crash and end-to-end tests seed them.',
      severity: 'error',
      from: { pathNot: ['^server/src/storage/postgres/', '^server/src/connectors/sql/', '^tests/(e2e|crash)/'] },
      to: { path: [npm('pg', '@types/pg'), '(^|/)node_modules/drizzle-orm/(node-postgres|pg-core)/'] },
    },
    {
      name: 'mysql-only-in-the-sql-connector',
      comment:
        'Flows reach MySQL/MariaDB through the SQL port the server injects (engine/src/ports.ts SqlPort); only ' +
        'server/src/connectors/sql/ implements it. The crash and end-to-end tests read the target to check it.',
      severity: 'error',
      from: { pathNot: ['^server/src/connectors/sql/', '^tests/(e2e|crash)/'] },
      to: { path: [npm('mysql2')] },
    },
    {
      name: 'sqlite-only-in-storage-sqlite',
      comment:
        'The server keeps its data through the storage port (server/src/storage/port.ts), which more than one ' +
        'database implements; only the SQLite implementation (storage/sqlite/) may speak to SQLite. Tests, and ' +
        'the benchmarks and crash scenarios that read the file directly, may too.',
      severity: 'error',
      from: { path: '^(server|tests)/', pathNot: ['^server/src/storage/sqlite/', TEST, '^tests/(bench|crash)/'] },
      to: { path: ['(^|/)node_modules/(@types/)?better-sqlite3/', '(^|/)node_modules/drizzle-orm/better-sqlite3/'] },
    },
    {
      name: 'no-cycle-between-modules',
      comment:
        'Modules that import each other load in an order that depends on who imports first, and cannot be ' +
        'understood one at a time. Cycles between folders are also reported as such by .dependency-cruiser.folders.cjs.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    // type-only imports are dependencies too: a type from http/ still ties domain code to HTTP
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    // node_modules is not followed, but not excluded either: an excluded module is dropped from every
    // import of it, so the rules that name packages (npm(...)) would never see one
    exclude: { path: '(^|/)(dist|data)/' },
    tsConfig: { fileName: 'tsconfig.base.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
