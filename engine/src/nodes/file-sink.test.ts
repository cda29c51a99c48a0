import { describe, expect, it } from 'vitest';
import { MemoryFilePort } from '../files.js';
import { startRun } from '../run.js';
import { fakeConnectors, flowOf, json, MemoryRunStore, SimulatedClock, testRuntime } from '../testing/index.js';

const records = [
  { id: 'a', qty: 1, note: 'plain' },
  { id: 'b', qty: 2, note: 'with, comma' },
  { id: 'c', qty: 3, note: 'say "hi"', extra: true },
];

async function write(files: MemoryFilePort, sink: Record<string, unknown>) {
  const flow = flowOf([
    { id: 'start', type: 'manual' },
    { id: 'src', type: 'inline-records', params: { records, keyField: 'id' } },
    { id: 'batch', type: 'batch', params: { size: 2 } },
    { id: 'out', type: 'file-sink', params: { path: 'out/x', ...sink } },
  ]);
  const clock = new SimulatedClock(0);
  const store = new MemoryRunStore();
  const connectors = { ...fakeConnectors(() => json(500, {})), files };
  return clock.run(startRun({ runId: 'r', flow, clock, runtime: testRuntime, store, connectors }).done);
}

describe('file-sink', () => {
  it('writes CSV with a header once (the first record’s fields), quoting where needed, one append per group', async () => {
    const files = new MemoryFilePort();
    const result = await write(files, { format: 'csv' });
    expect(result.counts).toMatchObject({ read: 3, succeeded: 3, failed: 0 });
    expect(files.text('out/x')).toBe('id,qty,note\na,1,plain\nb,2,"with, comma"\nc,3,"say ""hi"""\n');
    expect(files.appends.map((a) => a.lines)).toEqual([3, 1]);
    // a second run appends rows to the existing file, without a header
    await write(files, { format: 'csv' });
    expect(
      files
        .text('out/x')
        ?.split('\n')
        .filter((l) => l.startsWith('id,')),
    ).toHaveLength(1);
    expect(files.text('out/x')?.trim().split('\n')).toHaveLength(7);
  });

  it('writes the given columns with another delimiter, and JSON lines', async () => {
    const files = new MemoryFilePort();
    await write(files, { format: 'csv', delimiter: ';', columns: ['note', 'id', 'missing'] });
    expect(files.text('out/x')).toBe('note;id;missing\nplain;a;\nwith, comma;b;\n"say ""hi""";c;\n');
    const lines = new MemoryFilePort();
    await write(lines, { format: 'jsonl' });
    expect(
      lines
        .text('out/x')
        ?.trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
    ).toEqual(records);
  });

  it('fails the group of records when the write fails', async () => {
    const files = new MemoryFilePort();
    files.append = async () => {
      throw new Error('disk full');
    };
    const result = await write(files, { format: 'jsonl' });
    expect(result.counts).toMatchObject({ read: 3, succeeded: 0, failed: 3 });
  });
});
