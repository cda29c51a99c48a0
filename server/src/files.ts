import { realpathSync } from 'node:fs';
import { appendFile, mkdir, open, realpath, stat, truncate } from 'node:fs/promises';
import path from 'node:path';
import type { FilePort } from '@sluice/engine';

/** The folder file nodes read and write: SLUICE_FILES_DIR, else `<data dir>/files`. */
export function filesDir(dataDir: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.SLUICE_FILES_DIR || path.join(dataDir, 'files'));
}

/** A path a flow named that would leave the files folder (or is no path at all). */
export class FilePathError extends Error {}

/**
 * The absolute path of `relative` inside `root`. Refuses absolute paths, `..` steps and NUL bytes,
 * whatever the platform's separators, before touching the disk.
 */
export function resolveInside(root: string, relative: string): string {
  if (typeof relative !== 'string' || relative.trim() === '') throw new FilePathError('the file path is empty');
  if (relative.includes('\0')) throw new FilePathError(`"${relative}": a file path must not contain NUL`);
  if (path.isAbsolute(relative) || /^([/\\]|[a-zA-Z]:)/.test(relative))
    throw new FilePathError(`"${relative}": file paths are relative to the files folder; absolute paths are refused`);
  if (relative.split(/[/\\]/).includes('..'))
    throw new FilePathError(`"${relative}": ".." is refused; a file path must stay inside the files folder`);
  const full = path.resolve(root, relative);
  const within = path.relative(root, full);
  if (within === '' || within.startsWith('..') || path.isAbsolute(within))
    throw new FilePathError(`"${relative}" is not a file inside the files folder`);
  return full;
}

/**
 * Files confined to one folder: paths are relative to it, and a symbolic link inside it that leads
 * out of it is refused too (the real path is checked before opening).
 */
export function createFilePort(root: string): FilePort {
  const base = path.resolve(root);
  let realBase: string | undefined;
  const realRoot = (): string => {
    realBase ??= realpathSync(base);
    return realBase;
  };
  const checkReal = async (relative: string, full: string): Promise<void> => {
    let real: string;
    try {
      real = await realpath(full);
    } catch {
      return; // not there (yet): nothing to follow
    }
    const within = path.relative(realRoot(), real);
    if (within.startsWith('..') || path.isAbsolute(within))
      throw new FilePathError(`"${relative}" leads outside the files folder (a symbolic link?)`);
  };
  const describe = (relative: string, err: unknown): Error => {
    const code = (err as NodeJS.ErrnoException).code;
    if (err instanceof FilePathError) return err;
    if (code === 'ENOENT') return new Error(`no file "${relative}" in the files folder`);
    if (code === 'EISDIR') return new Error(`"${relative}" is a folder, not a file`);
    if (code === 'EACCES' || code === 'EPERM') return new Error(`no permission to use "${relative}"`);
    return new Error(`"${relative}": ${(err as Error).message}`);
  };

  return {
    async *read(relative, fromByte) {
      const full = resolveInside(base, relative);
      let handle: Awaited<ReturnType<typeof open>>;
      try {
        await mkdir(base, { recursive: true });
        await checkReal(relative, full);
        handle = await open(full, 'r');
      } catch (err) {
        throw describe(relative, err);
      }
      // the stream owns the handle: it closes it at the end, on an error, and when iteration stops early
      const stream = handle.createReadStream({ start: fromByte, highWaterMark: 64 * 1024 });
      try {
        for await (const chunk of stream) yield chunk as Buffer;
      } catch (err) {
        throw describe(relative, err);
      } finally {
        stream.destroy();
      }
    },

    async size(relative) {
      const full = resolveInside(base, relative);
      try {
        await checkReal(relative, full);
        return (await stat(full)).size;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw describe(relative, err);
      }
    },

    async append(relative, lines) {
      const full = resolveInside(base, relative);
      try {
        await mkdir(path.dirname(full), { recursive: true });
        await checkReal(relative, path.dirname(full));
        await checkReal(relative, full);
        await appendFile(full, lines.map((l) => `${l}\n`).join(''), 'utf8');
      } catch (err) {
        throw describe(relative, err);
      }
    },

    async truncate(relative, size) {
      const full = resolveInside(base, relative);
      try {
        await checkReal(relative, full);
        if ((await stat(full)).size > size) await truncate(full, size);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw describe(relative, err);
      }
    },
  };
}
