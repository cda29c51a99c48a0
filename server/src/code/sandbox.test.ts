import { afterAll, describe, expect, it } from 'vitest';
import { QuickJsSandbox } from './sandbox.js';

const sandbox = new QuickJsSandbox();
afterAll(() => sandbox.close());

const limits = { timeoutMs: 500, memoryBytes: 32 * 1024 * 1024 };
const run = (code: string, record: Record<string, unknown> = { a: 2 }) => sandbox.run({ code, record, ...limits });

describe('the code sandbox', () => {
  it('runs a function body on the record and returns what it returns', async () => {
    expect(await run('return { ...record, b: record.a * 21 }')).toEqual({ ok: true, value: { a: 2, b: 42 } });
    expect(await run('return null')).toEqual({ ok: true, value: null });
    expect(await run('record.a = 3')).toEqual({ ok: true, value: undefined });
  });

  it('gives the code no process, files, network or module loader', async () => {
    const probe = ['process', 'require', 'fetch', 'XMLHttpRequest', 'std', 'os', 'Deno', 'Bun'].map(
      (name) => `${name}: typeof ${name}`,
    );
    const result = await run(`return { ${probe.join(', ')} }`);
    expect(Object.values((result as { value: Record<string, string> }).value)).toEqual(Array(8).fill('undefined'));
    expect(await run('return import("fs")')).toMatchObject({ ok: true });
  });

  it('fails code that throws, with its message', async () => {
    expect(await run('throw new Error("no price for " + record.a)')).toEqual({
      ok: false,
      reason: 'threw',
      message: 'threw Error: no price for 2',
    });
  });

  it('stops a loop at the time limit', async () => {
    const started = Date.now();
    expect(await run('while (true) {}')).toEqual({
      ok: false,
      reason: 'time',
      message: 'ran longer than 500 ms (the limit)',
    });
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it.each([
    ['an array of a gigabyte', 'const a = new Array(134217728).fill(0); return { n: a.length }'],
    ['a buffer of a gigabyte', 'const b = new ArrayBuffer(1073741824); return { n: b.byteLength }'],
    [
      'a thousand 1 MB buffers',
      'const a = []; for (let i = 0; i < 1024; i++) a.push(new Uint8Array(1048576)); return {}',
    ],
    [
      'a gigabyte of strings',
      'const a = []; for (let i = 0; i < 1024; i++) a.push("x".repeat(1048575) + i); return { n: a.length }',
    ],
  ])('stops %s at the memory limit', async (_, code) => {
    expect(await run(code)).toEqual({ ok: false, reason: 'memory', message: 'used more than 32 MB (the limit)' });
  });

  it('lets code use memory below the limit, again and again after a record ran out', async () => {
    const code = 'const a = []; for (let i = 0; i < 16; i++) a.push(new Uint8Array(1048576)); return { n: a.length }';
    for (let i = 0; i < 3; i++) {
      expect(await run(code)).toEqual({ ok: true, value: { n: 16 } });
      expect(await run('const b = new ArrayBuffer(1073741824); return {}')).toMatchObject({ reason: 'memory' });
    }
  });

  it('goes on after a stack overflow, which ends its thread', async () => {
    expect(await run('function f() { return f() + 1 } return { n: f() }')).toMatchObject({
      ok: false,
      reason: 'threw',
    });
    expect(await run('return { ok: 1 }')).toEqual({ ok: true, value: { ok: 1 } });
  });

  it('keeps nothing from one record to the next', async () => {
    await run('globalThis.leak = 1; return {}');
    expect(await run('return { leak: typeof leak }')).toEqual({ ok: true, value: { leak: 'undefined' } });
  });

  it('answers a record still running when it is closed, and every one after', async () => {
    const own = new QuickJsSandbox();
    const running = own.run({ code: 'while (true) {}', record: {}, ...limits });
    const waiting = own.run({ code: 'return {}', record: {}, ...limits });
    await new Promise((resolve) => setTimeout(resolve, 100));
    await own.close();
    expect(await running).toEqual({ ok: false, reason: 'threw', message: 'the sandbox was closed' });
    expect(await waiting).toEqual({ ok: false, reason: 'threw', message: 'the sandbox was closed' });
    expect(await own.run({ code: 'return {}', record: {}, ...limits })).toMatchObject({ ok: false });
  });

  it('answers records handed over together in order, whatever happens to those between', async () => {
    const codes = Array.from({ length: 40 }, (_, i) =>
      i === 5
        ? 'while (true) {}'
        : i === 12
          ? 'function f() { return f() + 1 } return { n: f() }'
          : i === 20
            ? 'const b = new ArrayBuffer(1073741824); return {}'
            : `return { i: ${i} }`,
    );
    const results = await Promise.all(codes.map((code) => run(code)));
    results.forEach((result, i) => {
      if (i === 5) expect(result).toMatchObject({ ok: false, reason: 'time' });
      else if (i === 12) expect(result).toMatchObject({ ok: false, reason: 'threw' });
      else if (i === 20) expect(result).toMatchObject({ ok: false, reason: 'memory' });
      else expect(result, `record ${i}`).toEqual({ ok: true, value: { i } });
    });
  });
});
