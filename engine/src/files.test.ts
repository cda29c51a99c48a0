import { describe, expect, it } from 'vitest';
import {
  type CsvOptions,
  csvRecords,
  type FileRecord,
  formatCsvRow,
  jsonlRecords,
  MemoryFilePort,
  readLines,
  type TextLine,
} from './files.js';

const CSV: CsvOptions = { delimiter: ',', quote: '"', header: true };

async function* chunksOf(text: string, size: number): AsyncIterable<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

async function csv(text: string, options: Partial<CsvOptions> = {}, chunk = 3, maxRecordLines?: number) {
  return (await all(csvRecords(readLines(chunksOf(text, chunk)), { ...CSV, ...options }, maxRecordLines))).filter(
    (r): r is FileRecord => !('columns' in r),
  );
}

const values = (rs: FileRecord[]) => rs.map((r) => (r.ok ? r.record : r.error));

describe('readLines', () => {
  it('splits on LF and CRLF with exact byte offsets and line numbers, whatever the chunk size', async () => {
    const text = 'ab\r\ncdé\n\nlast';
    for (const size of [1, 2, 5, 100]) {
      const lines = await all(readLines(chunksOf(text, size)));
      expect(lines).toEqual([
        { text: 'ab', offset: 0, line: 1 },
        { text: 'cdé', offset: 4, line: 2 },
        { text: '', offset: 9, line: 3 },
        { text: 'last', offset: 10, line: 4 },
      ]);
    }
  });

  it('skips a UTF-8 BOM at the start of the file only, and goes on from a given position', async () => {
    const text = '\uFEFFa,b\n1,2\n';
    const lines = await all(readLines(chunksOf(text, 2)));
    expect(lines).toEqual([
      { text: 'a,b', offset: 0, line: 1 },
      { text: '1,2', offset: 7, line: 2 },
    ]);
    const bytes = new TextEncoder().encode(text);
    const rest = await all(readLines([bytes.subarray(7)], { offset: 7, line: 2 }));
    expect(rest).toEqual([{ text: '1,2', offset: 7, line: 2 }]);
  });

  it('marks a line longer than the limit instead of keeping it, and keeps counting bytes', async () => {
    const lines = await all(readLines(chunksOf('ok\nxxxxxxxxxx\nend\n', 3), undefined, 5));
    expect(lines).toEqual([
      { text: 'ok', offset: 0, line: 1 },
      { text: '', offset: 3, line: 2, tooLong: true },
      { text: 'end', offset: 14, line: 3 },
    ]);
  });

  it('takes strings as text', async () => {
    const lines: TextLine[] = await all(readLines(['a\nb', 'c\n']));
    expect(lines.map((l) => l.text)).toEqual(['a', 'bc']);
  });
});

describe('csvRecords', () => {
  it('names fields from the header and reads plain rows', async () => {
    const rs = await csv('id,name\n1,Pump\n2,Valve\n');
    expect(values(rs)).toEqual([
      { id: '1', name: 'Pump' },
      { id: '2', name: 'Valve' },
    ]);
    expect(rs.map((r) => r.line)).toEqual([2, 3]);
  });

  it('reads quoted fields holding delimiters, doubled quotes and line breaks', async () => {
    const text = 'id,note,n\n1,"a, b",x\n2,"say ""hi""",y\n3,"two\r\nlines\nthree",z\n4,"",\n';
    const rs = await csv(text);
    expect(values(rs)).toEqual([
      { id: '1', note: 'a, b', n: 'x' },
      { id: '2', note: 'say "hi"', n: 'y' },
      { id: '3', note: 'two\nlines\nthree', n: 'z' },
      { id: '4', note: '', n: '' },
    ]);
    expect(rs.map((r) => [r.line, r.offset])).toEqual([
      [2, 10],
      [3, 21],
      [4, 38],
      [7, 61],
    ]);
  });

  it('handles CRLF files, a BOM, blank lines, another delimiter and quote, and no header', async () => {
    expect(values(await csv("\uFEFFid;v\r\n1;a\r\n\r\n2;'x;y'\r\n", { delimiter: ';', quote: "'" }))).toEqual([
      { id: '1', v: 'a' },
      { id: '2', v: 'x;y' },
    ]);
    expect(values(await csv('1\t2\n3\t4\n', { delimiter: '\t', header: false }))).toEqual([
      { field1: '1', field2: '2' },
      { field1: '3', field2: '4' },
    ]);
  });

  it('fails malformed rows with their line number and reads on', async () => {
    const text = 'id,name\n1,ok\n2,"bad"x\n3\n4,a,b\n5,fine\n';
    expect(values(await csv(text))).toEqual([
      { id: '1', name: 'ok' },
      'line 3: unexpected text after the closing " of field 2',
      'line 4: expected 2 fields (as in the header), found 1',
      'line 5: expected 2 fields (as in the header), found 3',
      { id: '5', name: 'fine' },
    ]);
  });

  it('fails an unterminated quote at its first line and reads on from the next line', async () => {
    const text = 'id,name\n1,ok\n2,"never closed\n3,next\n4,last\n';
    const rs = await csv(text);
    expect(values(rs)).toEqual([
      { id: '1', name: 'ok' },
      'line 3: unterminated quoted field 2 (no closing " by line 5, the end of the file)',
      { id: '3', name: 'next' },
      { id: '4', name: 'last' },
    ]);
    // within a limit of lines, so one stray quote does not swallow a large file
    const limited = await csv(text, {}, 3, 2);
    expect(values(limited)[1]).toBe('line 3: unterminated quoted field 2 (no closing " by line 4)');
    expect(values(limited).slice(2)).toEqual([
      { id: '3', name: 'next' },
      { id: '4', name: 'last' },
    ]);
  });

  it('stops on a header it cannot read', async () => {
    await expect(csv('a,"b\n')).rejects.toThrow(/cannot read the header: line 1: unterminated/);
    await expect(csv('a,a\n1,2\n')).rejects.toThrow(/names the field "a" twice/);
  });

  it('uses given columns instead of reading a header (a resumed read)', async () => {
    expect(values(await csv('1,2\n', { columns: ['a', 'b'] }))).toEqual([{ a: '1', b: '2' }]);
  });
});

describe('jsonlRecords', () => {
  it('reads one object per line and fails the others with their line number', async () => {
    const text = '{"a":1}\n\n{"a":\n[1]\n"x"\n{"a":2}\r\n';
    const rs = await all(jsonlRecords(readLines(chunksOf(text, 4))));
    expect(
      values(rs).map((v) => (typeof v === 'string' ? v.replace(/: invalid JSON: .*/, ': invalid JSON') : v)),
    ).toEqual([
      { a: 1 },
      'line 3: invalid JSON',
      'line 4: not a JSON object (an array)',
      'line 5: not a JSON object (string)',
      { a: 2 },
    ]);
  });
});

describe('formatCsvRow', () => {
  it('quotes only fields that need it and writes objects as JSON', () => {
    expect(formatCsvRow(['a', 'b,c', 'say "hi"', 'two\nlines', 3, null, undefined, { x: 1 }], ',')).toBe(
      'a,"b,c","say ""hi""","two\nlines",3,,,"{""x"":1}"',
    );
  });

  it('round-trips through the reader', async () => {
    const rows = [
      ['id', 'text'],
      ['1', 'plain'],
      ['2', 'with, comma'],
      ['3', 'quote " and\nbreak'],
    ];
    const files = new MemoryFilePort(5);
    await files.append(
      'x.csv',
      rows.map((r) => formatCsvRow(r, ',')),
    );
    const rs = await all(csvRecords(readLines(files.read('x.csv', 0)), CSV));
    expect(values(rs.filter((r): r is FileRecord => !('columns' in r)))).toEqual(
      rows.slice(1).map(([id, text]) => ({ id, text })),
    );
  });
});
