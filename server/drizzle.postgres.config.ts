import { defineConfig } from 'drizzle-kit';

/** The PostgreSQL schema's migrations (`pnpm db:generate:postgres`); the SQLite ones are drizzle.config.ts's. */
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/storage/postgres/schema.ts',
  out: './drizzle-postgres',
});
