// Types of editor-stamp.mjs, for the tests that import it.
export const EDITOR_INPUTS: readonly string[];
export const EDITOR_STAMP: string;
export function editorSourcesHash(root: string, inputs?: readonly string[]): string;
export function editorIsStale(root: string, inputs?: readonly string[]): boolean;
export function stampEditor(root: string, hash: string): void;
