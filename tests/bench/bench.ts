/**
 * `pnpm bench [--quick]`: measures the engine against the storage ceiling in the same run, memory,
 * and a flow over HTTP against the sandbox's own cost. Each measurement runs in a fresh child process
 * on a fresh SQLite file, so peak memory belongs to that measurement alone. Prints a table, then one
 * JSON object with every figure as the last line.
 */
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { runChild } from './children.js';

const quick = process.argv.includes('--quick');
const childIndex = process.argv.indexOf('--child');

if (childIndex >= 0) {
  const kind = process.argv[childIndex + 1] as string;
  const n = Number(process.argv[process.argv.indexOf('--n') + 1]);
  const result = await runChild(kind, n);
  console.log(JSON.stringify(result));
  process.exit(0);
}

const self = fileURLToPath(import.meta.url);
/** The engine's old-space cap in the memory runs: a run that leaked would not finish under it. */
const HEAP_CAP_MB = 128;

function child(kind: string, n: number): Record<string, number> {
  const flags = kind === 'engine' ? [`--max-old-space-size=${HEAP_CAP_MB}`, '--expose-gc'] : [];
  const out = execFileSync(process.execPath, [...flags, '--import', 'tsx', self, '--child', kind, '--n', String(n)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 24,
  });
  const lines = out.trim().split('\n');
  return JSON.parse(lines[lines.length - 1] as string) as Record<string, number>;
}

const big = quick ? 100_000 : 1_000_000;
const small = 10_000;
const httpN = quick ? 2_000 : 10_000;
const kills = quick ? 3 : 20;
const crashRecords = quick ? 5_000 : 20_000;

console.error(`Sluice benchmark (${quick ? 'quick' : 'full'}), ${cpus().length} cores, Node ${process.version}`);
const ceiling = child('ceiling', big);
const engineBig = child('engine', big);
const engineSmall = child('engine', small);
const http = child('http', httpN);
const sandboxAlone = child('sandbox-alone', httpN);
const crash = child(`crash:${kills}`, crashRecords);

const rssKey = big >= 1_000_000 ? `rss_${big / 1_000_000}m_mb` : `rss_${big / 1000}k_mb`;
const figures = {
  cores: cpus().length,
  records: big,
  sqlite_ceiling_rps: Math.round(ceiling.rps as number),
  engine_rps: Math.round(engineBig.rps as number),
  engine_vs_ceiling: round((engineBig.rps as number) / (ceiling.rps as number)),
  rss_10k_mb: round(engineSmall.rssMb as number),
  [rssKey]: round(engineBig.rssMb as number),
  rss_ratio: round((engineBig.rssMb as number) / (engineSmall.rssMb as number)),
  heap_cap_mb: HEAP_CAP_MB,
  live_heap_10k_mb: round(engineSmall.liveHeapMb as number),
  [`live_heap_${rssKey.slice(4, -3)}_mb`]: round(engineBig.liveHeapMb as number),
  http_records: httpN,
  http_rps: Math.round(http.rps as number),
  sandbox_alone_rps: Math.round(sandboxAlone.rps as number),
  http_vs_sandbox_alone: round((http.rps as number) / (sandboxAlone.rps as number)),
  db_bytes_per_outcome: Math.round(engineBig.dbBytesPerOutcome as number),
  crash_cycles: crash.kills as number,
  crash_records: crashRecords,
  records_lost: crash.recordsLost as number,
  records_duplicated: crash.recordsDuplicated as number,
};

const rows: [string, string][] = [
  [
    `SQLite ceiling: raw prepared inserts of ${big.toLocaleString()} outcome rows, 1,000 per transaction`,
    `${fmt(figures.sqlite_ceiling_rps)} rows/s`,
  ],
  [
    `Engine, ${big.toLocaleString()} records, every outcome stored (generate → batch 100 → map → filter 10%)`,
    `${fmt(figures.engine_rps)} records/s`,
  ],
  ['Engine ÷ ceiling (baseline measured in this run)', `${figures.engine_vs_ceiling}`],
  ['Peak RSS, 10,000 records', `${figures.rss_10k_mb} MB`],
  [`Peak RSS, ${big.toLocaleString()} records`, `${figures[rssKey]} MB`],
  ['RSS ratio (bigger ÷ 10,000)', `${figures.rss_ratio}`],
  [
    `Live heap after the run (after GC), 10,000 / ${big.toLocaleString()} records (old space capped at ${HEAP_CAP_MB} MB)`,
    `${figures.live_heap_10k_mb} / ${figures[`live_heap_${rssKey.slice(4, -3)}_mb`]} MB`,
  ],
  [
    `Over HTTP: sandbox source → batch 50 → map → ERP write, ${httpN.toLocaleString()} records`,
    `${fmt(figures.http_rps)} records/s`,
  ],
  [
    'The same reads and writes with plain fetch, no engine (sandbox alone)',
    `${fmt(figures.sandbox_alone_rps)} records/s`,
  ],
  ['HTTP flow ÷ sandbox alone', `${figures.http_vs_sandbox_alone}`],
  ['Database bytes per stored outcome', `${figures.db_bytes_per_outcome}`],
  [
    `Crash cycles (kill -9 of the server during a ${crashRecords.toLocaleString()}-record run)`,
    `${figures.crash_cycles}`,
  ],
  ['Records lost / written twice after those crashes', `${figures.records_lost} / ${figures.records_duplicated}`],
];
const width = Math.max(...rows.map(([k]) => k.length));
for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`);
console.log(JSON.stringify(figures));

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

function fmt(n: number): string {
  return n.toLocaleString('en-US');
}
