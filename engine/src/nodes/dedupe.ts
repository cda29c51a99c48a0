import { compileExpression, type Expression, isPromise } from '../expressions.js';
import type { Item, NodeFactory, ShapingContext } from '../runtime.js';

/**
 * What a dedupe node keeps in a checkpoint: for each key seen, in order, 8 bytes of its SHA-256 (16
 * hex digits) and the sequence number of the record that passed with it (11 base-36 digits), as one
 * string: a checkpoint is copied at every commit, and one string copies far faster than an array.
 */
interface DedupeState {
  keys: string;
}

const HASH_CHARS = 16;
const SEQ_CHARS = 11;
const ENTRY = HASH_CHARS + SEQ_CHARS;

/**
 * Lets through the first record of each key in a run; the rest are filtered, with the reason. The
 * keys seen go into every checkpoint with the record that passed with each, so after a resume a
 * repeat is still dropped while the first record, read again, still passes.
 */
export const dedupe: NodeFactory<'dedupe', ShapingContext> = (ctx, params, restored) => {
  const keyOf: Expression | undefined = params.key ? compileExpression(params.key) : undefined;
  const seen = new Map<string, number>();
  let keys = '';
  /** Keys restored from a checkpoint whose first record may be read again (it was not settled yet). */
  const reclaimable = new Set<string>();
  const r = restored as DedupeState | undefined;
  if (r && typeof r.keys === 'string') {
    keys = r.keys;
    for (let at = 0; at + ENTRY <= keys.length; at += ENTRY) {
      const hash = keys.slice(at, at + HASH_CHARS);
      seen.set(hash, Number.parseInt(keys.slice(at + HASH_CHARS, at + ENTRY), 36));
      reclaimable.add(hash);
    }
  }

  const comparedText = async (item: Item): Promise<string> => {
    if (!keyOf) return `k:${item.key}`;
    let value = keyOf.evaluate(item.data);
    if (isPromise(value)) value = await value;
    return `v:${JSON.stringify(value ?? null)}`;
  };

  return {
    async process(items) {
      const pass: Item[] = [];
      const repeats: Item[] = [];
      for (const item of items) {
        let hash: string;
        try {
          hash = ctx.hash(await comparedText(item)).slice(0, HASH_CHARS);
        } catch (err) {
          await ctx.fail(item, { message: (err as Error).message, code: 'expression' }, 1);
          continue;
        }
        const first = seen.get(hash);
        if (first === undefined) {
          if (seen.size >= params.maxKeys) {
            await ctx.fail(
              item,
              { message: `more than ${params.maxKeys} distinct keys in this run (maxKeys)`, code: 'too_many_keys' },
              1,
            );
            continue;
          }
          seen.set(hash, item.seq);
          keys += hash + item.seq.toString(36).padStart(SEQ_CHARS, '0');
          pass.push(item);
        } else if (first === item.seq && reclaimable.delete(hash)) pass.push(item);
        else repeats.push(item);
      }
      if (repeats.length)
        ctx.dropWith(repeats, () => ({ message: 'a repeat of a key seen earlier in this run', code: 'duplicate' }));
      if (pass.length) await ctx.emit('out', pass);
    },
    state() {
      const state: DedupeState = { keys };
      return state;
    },
  };
};
