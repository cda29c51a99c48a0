/** What the code sandbox's host and its thread (code-worker.mjs) send each other. */

/** One record's run. */
export interface CodeJob {
  id: number;
  code: string;
  /** The record as JSON. */
  input: string;
  timeoutMs: number;
  memoryBytes: number;
}

/** Its answer: the returned value as JSON (null when it returned undefined), or why there is none. */
export type CodeAnswer = (
  | { id: number; ok: true; output: string | null }
  | { id: number; ok: false; reason: 'threw' | 'time' | 'memory'; message: string }
) & {
  /** The thread ends after this answer (its QuickJS instance broke): the records after it go to another. */
  ending?: boolean;
};
