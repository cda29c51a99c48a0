/**
 * Files: the port through which file nodes read and append (the server confines it to its files
 * folder), and a streaming reader of CSV and JSON-lines records that keeps one record in memory.
 */

/** Reads and appends files. Paths are relative to wherever the implementation keeps files. */
export interface FilePort {
  /**
   * The file's bytes from `fromByte` to its end, in chunks (strings are taken as UTF-8 text). Rejects
   * (on the first iteration) when the file cannot be read. Ending the iteration early closes the file.
   */
  read(path: string, fromByte: number): AsyncIterable<Uint8Array | string>;
  /** The file's size in bytes; undefined when there is no such file. */
  size(path: string): Promise<number | undefined>;
  /** Appends each line followed by "\n" in one write, creating the file (and its folders) when missing. */
  append(path: string, lines: string[]): Promise<void>;
  /** Cuts the file back to its first `size` bytes (a file already that short, or missing, is left alone). */
  truncate(path: string, size: number): Promise<void>;
}

/** One physical line of a file (without its line break). */
export interface TextLine {
  text: string;
  /** Byte offset of the line's first byte in the file. */
  offset: number;
  /** Line number, from 1. */
  line: number;
  /** The line was longer than the limit; its text is dropped. */
  tooLong?: boolean;
}

/** Where reading starts or goes on: the byte offset and number of a line's start. */
export interface LinePosition {
  offset: number;
  line: number;
}

/** One record read from a file, or why the lines from `line` on could not be read as one. */
export type FileRecord =
  | { ok: true; line: number; offset: number; record: Record<string, unknown> }
  | { ok: false; line: number; offset: number; error: string; raw: string };

export interface CsvOptions {
  delimiter: string;
  quote: string;
  /** Field names; undefined when the first record is the header (or there is none: see `header`). */
  columns?: string[] | undefined;
  /** The first record names the fields (ignored when `columns` is given). */
  header: boolean;
}

/** Longest physical line kept (longer ones are failed as records and skipped). */
export const MAX_LINE_BYTES = 16 * 1024 * 1024;
/** A quoted CSV field may run over this many lines at most; past it the record is "unterminated". */
export const MAX_RECORD_LINES = 1000;
const MAX_RAW = 200;
const NEWLINE = 10;

/** Splits chunks of bytes into lines, counting bytes exactly; a UTF-8 BOM at byte 0 is skipped. */
export async function* readLines(
  chunks: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
  from: LinePosition = { offset: 0, line: 1 },
  maxLineBytes: number = MAX_LINE_BYTES,
): AsyncGenerator<TextLine> {
  const decoder = new TextDecoder('utf-8');
  const encoder = new TextEncoder();
  /** The current line's bytes before this chunk (copies: the reader may reuse its buffers). */
  let parts: Uint8Array[] = [];
  /** Bytes of the current line so far, dropped ones included. */
  let lineBytes = 0;
  let tooLong = false;
  let offset = from.offset;
  let line = from.line;
  let atFileStart = from.offset === 0;

  const finish = (tail: Uint8Array): TextLine => {
    let result: TextLine;
    if (tooLong) result = { text: '', offset, line, tooLong: true };
    else {
      const bytes = parts.length === 0 ? tail : concat(parts, tail);
      let start = 0;
      if (atFileStart && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) start = 3;
      let end = bytes.length;
      if (end > start && bytes[end - 1] === 13) end--;
      result = { text: decoder.decode(bytes.subarray(start, end)), offset, line };
    }
    atFileStart = false;
    offset += lineBytes + 1;
    line++;
    parts = [];
    lineBytes = 0;
    tooLong = false;
    return result;
  };

  for await (const raw of chunks) {
    const chunk = typeof raw === 'string' ? encoder.encode(raw) : raw;
    let at = 0;
    while (at < chunk.length) {
      const nl = chunk.indexOf(NEWLINE, at);
      const piece = chunk.subarray(at, nl < 0 ? chunk.length : nl);
      lineBytes += piece.length;
      if (!tooLong && lineBytes > maxLineBytes) {
        tooLong = true;
        parts = [];
      }
      if (nl < 0) {
        if (!tooLong) parts.push(piece.slice());
        break;
      }
      yield finish(piece);
      at = nl + 1;
    }
  }
  if (lineBytes > 0) yield finish(new Uint8Array(0));
}

function concat(parts: Uint8Array[], tail: Uint8Array): Uint8Array {
  let length = tail.length;
  for (const p of parts) length += p.length;
  const bytes = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    bytes.set(p, at);
    at += p.length;
  }
  bytes.set(tail, at);
  return bytes;
}

/** Reads JSON-lines records: each non-blank line one JSON object. */
export async function* jsonlRecords(lines: AsyncIterable<TextLine>): AsyncGenerator<FileRecord> {
  for await (const l of lines) {
    if (l.tooLong) {
      yield tooLongRecord(l);
      continue;
    }
    if (l.text.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(l.text);
    } catch (err) {
      yield failed(l, `invalid JSON: ${(err as Error).message}`, l.text);
      continue;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      yield failed(
        l,
        `not a JSON object (${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value})`,
        l.text,
      );
      continue;
    }
    yield { ok: true, line: l.line, offset: l.offset, record: value as Record<string, unknown> };
  }
}

/**
 * Reads CSV records: quoted fields may hold delimiters, doubled quotes and line breaks. A record
 * whose quote is not closed within MAX_RECORD_LINES lines (or by the end of the file) fails, and
 * reading goes on at the line after its first. Blank lines are skipped. Yields `{ columns }` when
 * the field names are known (from the header, or fieldN for a file without one).
 */
export async function* csvRecords(
  lines: AsyncIterable<TextLine>,
  options: CsvOptions,
  maxRecordLines: number = MAX_RECORD_LINES,
): AsyncGenerator<FileRecord | { columns: string[] }> {
  const { delimiter, quote } = options;
  let columns = options.columns;
  let needHeader = columns === undefined && options.header;
  const iterator = lines[Symbol.asyncIterator]();
  /** Lines read ahead for a record that turned out unterminated, to be read again. */
  let again: TextLine[] = [];
  const next = async (): Promise<TextLine | undefined> => {
    if (again.length) return again.shift();
    const r = await iterator.next();
    return r.done ? undefined : r.value;
  };
  try {
    for (;;) {
      const first = await next();
      if (!first) return;
      if (first.tooLong) {
        yield notHeader(tooLongRecord(first), needHeader);
        continue;
      }
      if (first.text === '') continue;
      const state = newState();
      parseInto(state, first.text, delimiter, quote);
      const taken: TextLine[] = [first];
      let rest: TextLine | undefined;
      while (state.inQuotes && taken.length < maxRecordLines) {
        rest = await next();
        if (!rest || rest.tooLong) break;
        taken.push(rest);
        state.field += '\n';
        parseInto(state, rest.text, delimiter, quote);
        rest = undefined;
      }
      if (state.inQuotes) {
        const lastLine = (taken[taken.length - 1] as TextLine).line;
        again = [...taken.slice(1), ...(rest ? [rest] : []), ...again];
        yield notHeader(
          failed(
            first,
            `unterminated quoted field ${state.fields.length + 1} (no closing ${quote} by line ${lastLine}${taken.length >= maxRecordLines ? '' : ', the end of the file'})`,
            first.text,
          ),
          needHeader,
        );
        continue;
      }
      const raw = taken.map((t) => t.text).join('\n');
      if (state.error) {
        yield notHeader(failed(first, state.error, raw), needHeader);
        continue;
      }
      state.fields.push(state.field);
      const fields = state.fields;
      if (needHeader) {
        needHeader = false;
        columns = headerNames(fields);
        yield { columns };
        continue;
      }
      if (columns === undefined) {
        columns = fields.map((_, i) => `field${i + 1}`);
        yield { columns };
      }
      if (fields.length !== columns.length) {
        yield failed(
          first,
          `expected ${columns.length} field${columns.length === 1 ? '' : 's'}${options.header ? ' (as in the header)' : ' (as in the first row)'}, found ${fields.length}`,
          raw,
        );
        continue;
      }
      const record: Record<string, unknown> = {};
      for (let i = 0; i < fields.length; i++) record[columns[i] as string] = fields[i];
      yield { ok: true, line: first.line, offset: first.offset, record };
    }
  } finally {
    await iterator.return?.();
  }
}

/** A record that fails where the header should be: the file cannot be read at all. */
function notHeader(record: FileRecord, isHeader: boolean): FileRecord {
  if (isHeader && !record.ok) throw new FileFormatError(`cannot read the header: ${record.error}`);
  return record;
}

/** Header names: an empty one becomes fieldN; a repeated one is refused. */
function headerNames(fields: string[]): string[] {
  const seen = new Set<string>();
  return fields.map((f, i) => {
    const name = f.trim() === '' ? `field${i + 1}` : f;
    if (seen.has(name)) throw new FileFormatError(`the header names the field "${name}" twice`);
    seen.add(name);
    return name;
  });
}

/** The file cannot be read as records at all (e.g. a bad header): the run stops. */
export class FileFormatError extends Error {}

interface CsvState {
  fields: string[];
  field: string;
  /** The current field began with a quote. */
  quoted: boolean;
  inQuotes: boolean;
  error: string | undefined;
}

const newState = (): CsvState => ({ fields: [], field: '', quoted: false, inQuotes: false, error: undefined });

/** Parses one physical line into the state, going on from inside a quoted field if it was in one. */
function parseInto(s: CsvState, text: string, delimiter: string, quote: string): void {
  let i = 0;
  const n = text.length;
  while (i < n && !s.error) {
    if (s.inQuotes) {
      const q = text.indexOf(quote, i);
      if (q < 0) {
        s.field += text.slice(i);
        return;
      }
      s.field += text.slice(i, q);
      if (text[q + 1] === quote) {
        s.field += quote;
        i = q + 2;
      } else {
        s.inQuotes = false;
        i = q + 1;
        if (i < n && text[i] !== delimiter) {
          s.error = `unexpected text after the closing ${quote} of field ${s.fields.length + 1}`;
          return;
        }
      }
      continue;
    }
    const c = text[i];
    if (c === delimiter) {
      s.fields.push(s.field);
      s.field = '';
      s.quoted = false;
      i++;
      continue;
    }
    if (c === quote && s.field === '' && !s.quoted) {
      s.quoted = true;
      s.inQuotes = true;
      i++;
      continue;
    }
    // an unquoted field (a quote inside it is taken literally) runs to the next delimiter
    const d = text.indexOf(delimiter, i);
    const end = d < 0 ? n : d;
    s.field += text.slice(i, end);
    i = end;
  }
}

/** Formats one CSV row: fields holding the delimiter, a quote or a line break are quoted. */
export function formatCsvRow(values: readonly unknown[], delimiter: string, quote = '"'): string {
  return values
    .map((v) => {
      const text = v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
      if (text.includes(delimiter) || text.includes(quote) || text.includes('\n') || text.includes('\r')) {
        return `${quote}${text.split(quote).join(quote + quote)}${quote}`;
      }
      return text;
    })
    .join(delimiter);
}

function failed(l: TextLine, error: string, raw: string): FileRecord {
  return {
    ok: false,
    line: l.line,
    offset: l.offset,
    error: `line ${l.line}: ${error}`,
    raw: raw.length > MAX_RAW ? `${raw.slice(0, MAX_RAW)}…` : raw,
  };
}

function tooLongRecord(l: TextLine): FileRecord {
  return failed(l, `longer than ${Math.round(MAX_LINE_BYTES / 1024 / 1024)} MiB; skipped`, '');
}

/** Files kept in memory, for tests: reads come in chunks of `chunkBytes` to cross line boundaries. */
export class MemoryFilePort implements FilePort {
  readonly files = new Map<string, Uint8Array>();
  /** Every append, in order: path and the number of lines written. */
  readonly appends: { path: string; lines: number }[] = [];

  constructor(private readonly chunkBytes = 64 * 1024) {}

  put(path: string, text: string | Uint8Array): void {
    this.files.set(path, typeof text === 'string' ? new TextEncoder().encode(text) : text);
  }

  text(path: string): string | undefined {
    const bytes = this.files.get(path);
    return bytes && new TextDecoder().decode(bytes);
  }

  async *read(path: string, fromByte: number): AsyncIterable<Uint8Array> {
    const bytes = this.files.get(path);
    if (!bytes) throw new Error(`no file "${path}"`);
    for (let at = fromByte; at < bytes.length; at += this.chunkBytes) yield bytes.subarray(at, at + this.chunkBytes);
  }

  async size(path: string): Promise<number | undefined> {
    return this.files.get(path)?.length;
  }

  async append(path: string, lines: string[]): Promise<void> {
    const added = new TextEncoder().encode(lines.map((l) => `${l}\n`).join(''));
    const old = this.files.get(path) ?? new Uint8Array(0);
    const next = new Uint8Array(old.length + added.length);
    next.set(old);
    next.set(added, old.length);
    this.files.set(path, next);
    this.appends.push({ path, lines: lines.length });
  }

  async truncate(path: string, size: number): Promise<void> {
    const bytes = this.files.get(path);
    if (bytes && bytes.length > size) this.files.set(path, bytes.slice(0, size));
  }
}
