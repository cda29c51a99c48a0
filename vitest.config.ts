import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      { test: { name: 'shared', root: './shared', include: ['src/**/*.test.ts'] } },
      { test: { name: 'engine', root: './engine', include: ['src/**/*.test.ts'] } },
      { test: { name: 'server', root: './server', include: ['src/**/*.test.ts'] } },
      {
        // the API suites again, with the server on PostgreSQL (a fresh database per test file)
        test: {
          name: 'server-postgres',
          root: './server',
          include: [
            'src/http/**/*.test.ts',
            'src/runs/changed-only.test.ts',
            'src/runs/split-collect.test.ts',
            'src/alerts/alerts.test.ts',
            'src/metrics/metrics.test.ts',
          ],
          env: { SLUICE_TEST_STORE: 'postgres' },
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      { test: { name: 'editor', root: './editor', include: ['src/**/*.test.ts'] } },
      {
        test: {
          name: 'tests',
          root: './tests',
          include: ['**/*.test.ts'],
          exclude: ['**/node_modules/**'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
          // the built server, for the tests that run the sluice command as a user does
          globalSetup: ['./support/build-server.ts'],
        },
      },
    ],
  },
});
