import { once } from 'node:events';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type RunCommit, type RunStore, startRun } from '@sluice/engine';
import { flowOf } from '@sluice/engine/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConnectors } from './connectors.js';
import { createFilePort, filesDir, resolveInside } from './files.js';
import { nodeRuntime, systemClock } from './node-runtime.js';

let dir: string;
let root: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'sluice-files-'));
  root = path.join(dir, 'files');
  mkdirSync(root);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function collect(it: AsyncIterable<Uint8Array | string>): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of it) parts.push(Buffer.from(c));
  return Buffer.concat(parts).toString('utf8');
}

describe('the files folder', () => {
  it('is SLUICE_FILES_DIR, else <data dir>/files', () => {
    expect(filesDir('/data', {})).toBe(path.resolve('/data/files'));
    expect(filesDir('/data', { SLUICE_FILES_DIR: '/srv/in' })).toBe(path.resolve('/srv/in'));
  });

  it('refuses paths that leave it, with a clear error, before touching the disk', async () => {
    for (const bad of ['../x', 'a/../../x', 'a/..', '/etc/passwd', '\\\\server\\x', 'C:\\x', 'a\\..\\..\\x', '']) {
      expect(() => resolveInside(root, bad), bad).toThrow(/refused|relative|empty|inside/);
    }
    const files = createFilePort(root);
    await expect(collect(files.read('../x', 0))).rejects.toThrow(
      /".." is refused; a file path must stay inside the files folder/,
    );
    await expect(files.append('/tmp/x', ['a'])).rejects.toThrow(/absolute paths are refused/);
    await expect(files.size('../../etc/passwd')).rejects.toThrow(/refused/);
    expect(resolveInside(root, 'in/a.csv')).toBe(path.join(root, 'in', 'a.csv'));
  });

  it('refuses a symbolic link inside it that leads out of it', async () => {
    writeFileSync(path.join(dir, 'secret.txt'), 'secret\n');
    symlinkSync(path.join(dir, 'secret.txt'), path.join(root, 'link.txt'));
    const files = createFilePort(root);
    await expect(collect(files.read('link.txt', 0))).rejects.toThrow(/leads outside the files folder/);
  });

  it('reads from a byte offset, appends creating folders, and says when a file is missing', async () => {
    const files = createFilePort(root);
    expect(await files.size('out/new.csv')).toBeUndefined();
    await files.append('out/new.csv', ['a,b', '1,2']);
    await files.append('out/new.csv', ['3,4']);
    expect(readFileSync(path.join(root, 'out/new.csv'), 'utf8')).toBe('a,b\n1,2\n3,4\n');
    expect(await files.size('out/new.csv')).toBe(12);
    expect(await collect(files.read('out/new.csv', 4))).toBe('1,2\n3,4\n');
    await expect(collect(files.read('nope.csv', 0))).rejects.toThrow(/no file "nope.csv" in the files folder/);
  });

  it('cuts a file back to a byte offset, leaving a shorter or missing file alone', async () => {
    const files = createFilePort(root);
    await files.append('out/cut.jsonl', ['{"a":1}', '{"é":2}', '{"a":3}']);
    await files.truncate('out/cut.jsonl', 17);
    expect(readFileSync(path.join(root, 'out/cut.jsonl'), 'utf8')).toBe('{"a":1}\n{"é":2}\n');
    await files.truncate('out/cut.jsonl', 100);
    expect(await files.size('out/cut.jsonl')).toBe(17);
    await files.truncate('out/none.jsonl', 0);
    expect(await files.size('out/none.jsonl')).toBeUndefined();
    await expect(files.truncate('../x', 0)).rejects.toThrow(/refused/);
  });
});

describe('a large CSV file', () => {
  it('streams 200,000 lines through file-source → file-sink with flat memory', async () => {
    const rows = 200_000;
    const padding = 'x'.repeat(250);
    const out = createWriteStream(path.join(root, 'big.csv'));
    out.write('id,qty,site,note\n');
    for (let i = 0; i < rows; i++) {
      const line = `wo-${i},${i % 97},"site ${i % 13}, north","${padding}"\r\n`;
      if (!out.write(line)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');

    const flow = flowOf(
      [
        { id: 'start', type: 'manual' },
        { id: 'read', type: 'file-source', params: { path: 'big.csv', keyField: 'id', pageSize: 500 } },
        { id: 'write', type: 'file-sink', params: { path: 'out/big.jsonl', format: 'jsonl' } },
      ],
      undefined,
      { settings: { maxInFlight: 1000 } },
    );

    global.gc?.();
    let peak = 0;
    const sample = () => {
      peak = Math.max(peak, process.memoryUsage().heapUsed);
    };
    // a store that keeps counts only, so what is measured is the file's path through the engine
    const store: RunStore & { last?: RunCommit } = {
      commit(_id, commit) {
        store.last = commit;
        sample();
      },
      setStatus() {},
      setWaiting() {},
    };
    const connectors = { ...createConnectors([]), files: createFilePort(root) };
    const run = await startRun({
      runId: 'big',
      flow,
      clock: systemClock,
      runtime: nodeRuntime,
      store,
      connectors,
    }).done;
    sample();

    expect(run.status).toBe('succeeded');
    expect(run.counts).toMatchObject({ read: rows, succeeded: rows, failed: 0 });
    expect(peak).toBeLessThan(150 * 1024 * 1024);
    let lines = 0;
    for await (const chunk of createFilePort(root).read('out/big.jsonl', 0))
      for (const byte of chunk as Buffer) if (byte === 10) lines++;
    expect(lines).toBe(rows);
  }, 120_000);
});
