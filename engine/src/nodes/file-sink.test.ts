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

describe('file-sink across a crash', () => {
  const many = Array.from({ length: 10 }, (_, i) => ({ id: `k${i}`, n: i }));
  const flow = (format: 'jsonl' | 'csv') =>
    flowOf([
      { id: 'start', type: 'manual' },
      { id: 'src', type: 'inline-records', params: { records: many, keyField: 'id' } },
      { id: 'batch', type: 'batch', params: { size: 3 } },
      { id: 'out', type: 'file-sink', params: { path: 'out/x', format } },
    ]);

  /** Runs until `commitsLanding` commits have landed; later ones never do (the process died). */
  async function firstLife(files: MemoryFilePort, format: 'jsonl' | 'csv', commitsLanding: number) {
    const store = new MemoryRunStore();
    let commits = 0;
    const dying = {
      commit: (id: string, c: Parameters<MemoryRunStore['commit']>[1]) => {
        if (++commits > commitsLanding) return new Promise<void>(() => {});
        store.commit(id, c);
      },
      setStatus: (id: string, u: Parameters<MemoryRunStore['setStatus']>[1]) => store.setStatus(id, u),
      setWaiting: () => {},
    };
    const clock = new SimulatedClock(0);
    const connectors = { ...fakeConnectors(() => json(500, {})), files };
    startRun({ runId: 'r', flow: flow(format), clock, runtime: testRuntime, store: dying, connectors });
    await clock.advance(1000);
    return store;
  }

  async function secondLife(files: MemoryFilePort, format: 'jsonl' | 'csv', first: MemoryRunStore) {
    const last = first.commits.at(-1);
    const clock = new SimulatedClock(0);
    const connectors = { ...fakeConnectors(() => json(500, {})), files };
    const resume = last && {
      checkpoint: last.checkpoint,
      counts: last.counts,
      nodeCounts: last.nodeCounts,
      settled: new Set<number>(),
    };
    const store = new MemoryRunStore();
    const result = await clock.run(
      startRun({
        runId: 'r',
        flow: flow(format),
        clock,
        runtime: testRuntime,
        store,
        connectors,
        ...(resume ? { resume } : {}),
      }).done,
    );
    return { result, store };
  }

  it('cuts the lines written after the last checkpoint, so a resumed run writes each record once', async () => {
    const files = new MemoryFilePort();
    files.put('out/x', '{"before":true}\n');
    // commits: the sink's starting offset, batch 1, batch 2; batch 3 was appended but never committed
    const first = await firstLife(files, 'jsonl', 3);
    expect(first.outcomes.map((o) => o.seq)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(files.text('out/x')?.trim().split('\n').length).toBeGreaterThan(7);
    const { result, store } = await secondLife(files, 'jsonl', first);
    expect(result.status).toBe('succeeded');
    expect(store.outcomes.map((o) => o.seq)).toEqual([6, 7, 8, 9]);
    const lines = files.text('out/x')?.trim().split('\n') ?? [];
    expect(lines.map((l) => JSON.parse(l))).toEqual([{ before: true }, ...many]);
  });

  it('stores where the file ended before its first line, so a crash before any batch committed loses nothing of it and repeats nothing', async () => {
    const files = new MemoryFilePort();
    files.put('out/x', 'id,n\nold,0\n');
    const first = await firstLife(files, 'csv', 1);
    expect(first.outcomes).toEqual([]);
    expect(first.commits[0]?.checkpoint.nodeState.out).toEqual({ offset: 11 });
    expect(files.text('out/x')).toBe('id,n\nold,0\nk0,0\nk1,1\nk2,2\n');
    await secondLife(files, 'csv', first);
    expect(files.text('out/x')).toBe(`id,n\nold,0\n${many.map((r) => `${r.id},${r.n}\n`).join('')}`);
  });

  it('goes on from the end of a file someone removed before the run resumed, with a header', async () => {
    const files = new MemoryFilePort();
    const first = await firstLife(files, 'csv', 3);
    files.files.delete('out/x');
    const { result } = await secondLife(files, 'csv', first);
    expect(result.status).toBe('succeeded');
    expect(files.text('out/x')).toBe(
      `id,n\n${many
        .slice(6)
        .map((r) => `${r.id},${r.n}\n`)
        .join('')}`,
    );
  });

  it('writes its first line only once the store says its starting offset is stored', async () => {
    const files = new MemoryFilePort();
    files.put('out/x', 'kept\n');
    const store = new MemoryRunStore();
    let stored: () => void = () => {};
    const flushes: number[] = [];
    const slow = {
      commit: (id: string, c: Parameters<MemoryRunStore['commit']>[1]) => store.commit(id, c),
      setStatus: (id: string, u: Parameters<MemoryRunStore['setStatus']>[1]) => store.setStatus(id, u),
      setWaiting: () => {},
      flush: () => {
        flushes.push(store.commits.length);
        return new Promise<void>((resolve) => {
          stored = resolve;
        });
      },
    };
    const clock = new SimulatedClock(0);
    const connectors = { ...fakeConnectors(() => json(500, {})), files };
    const run = startRun({ runId: 'r', flow: flow('jsonl'), clock, runtime: testRuntime, store: slow, connectors });
    await clock.advance(1000);
    expect(flushes).toEqual([1]);
    expect(store.commits[0]?.checkpoint.nodeState.out).toEqual({ offset: 5 });
    expect(files.text('out/x')).toBe('kept\n');
    stored();
    const result = await clock.run(run.done);
    expect(result.status).toBe('succeeded');
    expect(files.text('out/x')?.trim().split('\n')).toHaveLength(11);
  });

  it('writes a new CSV file’s header again when it cuts the file back to nothing', async () => {
    const files = new MemoryFilePort();
    const first = await firstLife(files, 'csv', 1);
    expect(files.text('out/x')).toBe('id,n\nk0,0\nk1,1\nk2,2\n');
    await secondLife(files, 'csv', first);
    expect(files.text('out/x')).toBe(`id,n\n${many.map((r) => `${r.id},${r.n}\n`).join('')}`);
  });
});
