import { readFileSync } from 'node:fs';
import path from 'node:path';
import { chain, flowDocument } from '@sluice/engine/testing';
import { describe, expect, it } from 'vitest';
import { crashedRun, crashFlow } from './scenario.js';

const KILLS = Number(process.env.SLUICE_CRASH_KILLS ?? 5);
const RECORDS = Number(process.env.SLUICE_CRASH_RECORDS ?? 20_000);
const OUT = 'out/work-orders.jsonl';

/** The crash test's flow with a file sink where the ERP was: work orders → JSON lines. */
const fileFlow = flowDocument(
  [
    ...crashFlow.nodes.filter((n) => !['erp', 'rejected', 'dead-letter', 'pause'].includes(n.id)),
    { id: 'pause', type: 'delay', params: { ms: 40 } },
    { id: 'file', type: 'file-sink', params: { path: OUT, format: 'jsonl' } },
  ],
  chain('start', 'work-orders', 'batch', 'pause', 'shape', 'file'),
  { name: 'Crash test: work orders → file' },
);

describe(`kill -9 the server ${KILLS} times while a file sink writes ${RECORDS} records`, () => {
  it('resumes every time and ends with each record’s line in the file exactly once', async () => {
    const r = await crashedRun({ flow: fileFlow, kills: KILLS, records: RECORDS }, async (run) => ({
      ...run,
      text: readFileSync(path.join(run.filesDir, OUT), 'utf8'),
    }));
    expect(r.progress, 'the run was still going at every kill').toHaveLength(KILLS);
    expect(r.final.status).toBe('succeeded');
    expect(r.final.counts).toMatchObject({ read: RECORDS, succeeded: RECORDS, failed: 0, cancelled: 0 });

    const lines = r.text.split('\n');
    expect(lines.pop(), 'the file ends with a whole line').toBe('');
    const keys = lines.map((l) => (JSON.parse(l) as { externalKey: string }).externalKey);
    const seen = new Map<string, number>();
    for (const k of keys) seen.set(k, (seen.get(k) ?? 0) + 1);
    const duplicated = [...seen.values()].filter((n) => n > 1).length;
    expect(duplicated, 'records whose line is in the file more than once').toBe(0);
    expect(seen.size, 'records with a line').toBe(RECORDS);
    expect(lines).toHaveLength(RECORDS);
    console.log(
      `file-sink crash test: ${KILLS} kills at ${r.progress.join(', ')} settled records; ${RECORDS} lines, 0 duplicated, 0 missing`,
    );
  }, 600_000);
});
