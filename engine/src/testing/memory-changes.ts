import type { ChangeHashes } from '../ports.js';

/**
 * Changed-only hashes kept in memory for one flow, as the server keeps them per flow: `forRun()`
 * gives a run its view, `promote()` makes its staged hashes current (the run succeeded).
 */
export class MemoryChangeHashes {
  readonly current = new Map<string, Map<string, string>>();
  private staged = new Map<string, Map<string, string>>();

  forRun(): ChangeHashes {
    this.staged = new Map();
    return {
      current: async (nodeId, keys) => {
        const of = this.current.get(nodeId);
        const found = new Map<string, string>();
        for (const key of keys) {
          const hash = of?.get(key);
          if (hash !== undefined) found.set(key, hash);
        }
        return found;
      },
      stage: async (nodeId, entries) => {
        const of = this.staged.get(nodeId) ?? new Map<string, string>();
        this.staged.set(nodeId, of);
        for (const [key, hash] of entries) of.set(key, hash);
      },
    };
  }

  promote(): void {
    for (const [nodeId, entries] of this.staged) {
      const of = this.current.get(nodeId) ?? new Map<string, string>();
      this.current.set(nodeId, of);
      for (const [key, hash] of entries) of.set(key, hash);
    }
    this.staged = new Map();
  }
}
