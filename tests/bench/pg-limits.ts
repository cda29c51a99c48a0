import { randomBytes } from 'node:crypto';
import { createPool, openPostgres } from '../../server/src/storage/postgres/db.js';
import { PgLimits } from '../../server/src/storage/postgres/limits.js';

/**
 * What the shared connection limits cost, on a throwaway database of the PostgreSQL server
 * `SLUICE_TEST_DATABASE_URL` names (a local one by default):
 *
 * - the permits a second PgLimits grants on one connection with maxPerSecond 10,000 from 4 callers
 *   at once (each takes a permit, releases it, takes the next): the pace's statement is the bound;
 * - the time a permit adds to a request when nothing has to wait: one caller, a pace it never
 *   reaches, and a concurrency limit it never reaches (a place taken and given back), p50 and p99.
 *
 *   tsx tests/bench/pg-limits.ts [seconds]
 */
const seconds = Number(process.argv[2] ?? 3);
const server = process.env.SLUICE_TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function main() {
  const name = `sluice_bench_${randomBytes(6).toString('hex')}`;
  const admin = createPool(server, 1);
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(server);
  url.pathname = `/${name}`;
  const db = await openPostgres(url.toString(), { poolSize: 8 });
  try {
    const limits = new PgLimits(db);

    // throughput: 4 callers at maxPerSecond 10,000
    let granted = 0;
    const until = performance.now() + seconds * 1000;
    const caller = async () => {
      while (performance.now() < until) {
        const permit = await limits.acquire('bench-rate', { maxPerSecond: 10_000 });
        granted++;
        permit.release();
      }
    };
    const t0 = performance.now();
    await Promise.all([caller(), caller(), caller(), caller()]);
    const perSecond = granted / ((performance.now() - t0) / 1000);
    console.log(`pace, 4 callers, maxPerSecond 10,000: ${Math.round(perSecond)} permits/s`);

    // added latency with no wait, one caller
    for (const [label, settings] of [
      ['pace (maxPerSecond 10,000, never reached)', { maxPerSecond: 10_000 }],
      ['place (maxConcurrent 100, never reached; taken and given back)', { maxConcurrent: 100 }],
      ['both', { maxConcurrent: 100, maxPerSecond: 10_000 }],
    ] as const) {
      const times: number[] = [];
      const end = performance.now() + seconds * 1000;
      while (performance.now() < end) {
        const s = performance.now();
        const permit = await limits.acquire(`bench-${label}`, settings);
        times.push(performance.now() - s);
        permit.release();
      }
      times.sort((a, b) => a - b);
      console.log(
        `${label}: p50 ${percentile(times, 50).toFixed(2)} ms, p99 ${percentile(times, 99).toFixed(2)} ms (${times.length} permits)`,
      );
    }
    await limits.close();
  } finally {
    await db.$client.end();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

await main();
