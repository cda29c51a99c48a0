import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EDITOR_INPUTS, editorIsStale, editorSourcesHash, stampEditor } from '../../scripts/editor-stamp.mjs';

let root = '';
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** A repository with the editor's inputs and a built editor/dist. */
function repo(): string {
  root = mkdtempSync(path.join(tmpdir(), 'sluice-stamp-'));
  const file = (relative: string, text: string) => {
    mkdirSync(path.dirname(path.join(root, relative)), { recursive: true });
    writeFileSync(path.join(root, relative), text);
  };
  file('editor/src/main.tsx', 'export const a = 1;');
  file('editor/index.html', '<div id="root"></div>');
  file('shared/src/flow.ts', 'export const b = 2;');
  file('pnpm-lock.yaml', 'lockfileVersion: 9');
  file('editor/src/node_modules/ignored.js', 'x');
  file('editor/dist/index.html', '<html></html>');
  return root;
}

describe('the editor build stamp', () => {
  it('asks for a build until one is stamped, then only when a source changes', () => {
    const dir = repo();
    expect(editorIsStale(dir)).toBe(true);
    stampEditor(dir, editorSourcesHash(dir));
    expect(editorIsStale(dir)).toBe(false);

    // a new modification time with the same content (a checkout, a copy) needs no build
    utimesSync(path.join(dir, 'editor/src/main.tsx'), new Date(), new Date(Date.now() + 60_000));
    expect(editorIsStale(dir)).toBe(false);

    writeFileSync(path.join(dir, 'shared/src/flow.ts'), 'export const b = 3;');
    expect(editorIsStale(dir)).toBe(true);
    stampEditor(dir, editorSourcesHash(dir));
    expect(editorIsStale(dir)).toBe(false);

    writeFileSync(path.join(dir, 'editor/src/added.ts'), 'export {};');
    expect(editorIsStale(dir)).toBe(true);
    stampEditor(dir, editorSourcesHash(dir));

    // the lock (a dependency's version) is an input; what sits in node_modules is not
    writeFileSync(path.join(dir, 'editor/src/node_modules/ignored.js'), 'y');
    expect(editorIsStale(dir)).toBe(false);
    writeFileSync(path.join(dir, 'pnpm-lock.yaml'), 'lockfileVersion: 10');
    expect(editorIsStale(dir)).toBe(true);
  });

  it('asks for a build when editor/dist was emptied (a build wipes the stamp with it)', () => {
    const dir = repo();
    stampEditor(dir, editorSourcesHash(dir));
    rmSync(path.join(dir, 'editor/dist/index.html'));
    expect(editorIsStale(dir)).toBe(true);
  });

  it('hashes every input the build reads, shared/ included', () => {
    expect(EDITOR_INPUTS).toEqual(expect.arrayContaining(['editor/src', 'editor/index.html', 'shared/src']));
  });
});
