import { compileExpression, type Expression, isPromise } from '../expressions.js';
import type { Item, NodeFactory, ShapingContext } from '../runtime.js';

/** What a dedupe node keeps in a checkpoint: each key seen (8 bytes of its SHA-256, hex) and the record that passed with it. */
interface DedupeState {
  hashes: string;
  seqs: number[];
}

const HASH_CHARS = 16;

/**
 * Lets through the first record of each key in a run; the rest are filtered, with the reason. The
 * keys seen go into every checkpoint with the record that passed with each, so after a resume a
 * repeat is still dropped while the first record, read again, still passes.
 */
export const dedupe: NodeFactory<'dedupe', ShapingContext> = (ctx, params, restored) => {
  const keyOf: Expression | undefined = params.key ? compileExpression(params.key) : undefined;
  const seen = new Map<string, number>();
  const order: string[] = [];
  /** Keys restored from a checkpoint whose first record may be read again (it was not settled yet). */
  const reclaimable = new Set<string>();
  const r = restored as DedupeState | undefined;
  if (r && typeof r.hashes === 'string' && Array.isArray(r.seqs)) {
    r.seqs.forEach((seq, i) => {
      const hash = r.hashes.slice(i * HASH_CHARS, (i + 1) * HASH_CHARS);
      seen.set(hash, seq);
      order.push(hash);
      reclaimable.add(hash);
    });
  }
  let packed: DedupeState | undefined;

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
          order.push(hash);
          packed = undefined;
          pass.push(item);
        } else if (first === item.seq && reclaimable.delete(hash)) pass.push(item);
        else repeats.push(item);
      }
      if (repeats.length)
        ctx.dropWith(repeats, () => ({ message: 'a repeat of a key seen earlier in this run', code: 'duplicate' }));
      if (pass.length) await ctx.emit('out', pass);
    },
    state() {
      packed ??= { hashes: order.join(''), seqs: order.map((h) => seen.get(h) as number) };
      return packed;
    },
  };
};
