import { compileExpression, type Expression, isPromise } from '../expressions.js';
import type { Item, NodeFactory, ShapingContext } from '../runtime.js';
import { type Accumulator, addValues, type FieldSpec, newAccumulators, resultOf } from './aggregate-values.js';

/** One group: the value of Group by, its accumulators, and (batch scope) the record whose path carries it on. */
interface Group {
  value: unknown;
  accs: Accumulator[];
  carrier?: Item;
}

/** What a whole-run aggregate keeps in a checkpoint: its groups in order, and the places of its records once reserved. */
interface RunState {
  groups: [string, unknown, Accumulator[]][];
  base?: number;
}

/** Keys longer than this are hashed. */
const MAX_KEY = 200;

/**
 * Groups records by an expression and sends one record per group: `{ group, ...fields }`.
 *
 * Scope `batch`: the groups of a batch are sent when the batch has finished upstream (with no batch
 * before the node, those of each chunk it receives). Each group goes on as the path of its first
 * record, whose outcome is then the group's; the group's other records end here, succeeded.
 * Scope `run`: every record ends here, succeeded; once all are in, each group is a new record of the
 * run (key `agg:` + the group value), placed after every record read. The groups are in the
 * checkpoint, so a resumed run goes on with them.
 */
export const aggregate: NodeFactory<'aggregate', ShapingContext> = (ctx, params, restored) => {
  const groupBy: Expression | undefined = params.groupBy ? compileExpression(params.groupBy) : undefined;
  const specs: FieldSpec[] = params.fields.map((f) => ({
    name: f.name,
    op: f.op,
    value: f.value ? compileExpression(f.value) : undefined,
  }));
  const limits = { maxCollect: params.maxCollect };
  const byBatch = new Map<number, Map<string, Group>>();
  const whole = new Map<string, Group>();
  let base: number | undefined;
  const r = restored as RunState | undefined;
  if (params.scope === 'run' && r && Array.isArray(r.groups)) {
    for (const [key, value, accs] of r.groups) whole.set(key, { value, accs });
    base = r.base;
  }

  const evaluate = async (expr: Expression, record: unknown) => {
    const value = expr.evaluate(record);
    return isPromise(value) ? await value : value;
  };

  const keyOf = (value: unknown) => {
    const text = JSON.stringify(value ?? null);
    return text.length > MAX_KEY ? `h:${ctx.hash(text).slice(0, 32)}` : text;
  };

  /** Adds a record to its group; a message when it cannot be (and its group is left as it was). */
  const add = async (groups: Map<string, Group>, item: Item): Promise<{ group?: Group; error?: string }> => {
    let value: unknown = null;
    const values: unknown[] = [];
    try {
      if (groupBy) value = (await evaluate(groupBy, item.data)) ?? null;
      for (const spec of specs) values.push(spec.value ? await evaluate(spec.value, item.data) : undefined);
    } catch (err) {
      return { error: (err as Error).message };
    }
    const key = keyOf(value);
    let group = groups.get(key);
    const fresh = group === undefined;
    if (!group) {
      if (groups.size >= params.maxGroups) {
        return { error: `more than ${params.maxGroups} groups (maxGroups): this record would open another` };
      }
      group = { value, accs: newAccumulators(specs) };
    }
    const problem = addValues(specs, group.accs, values, limits);
    if (problem) return { error: problem };
    if (fresh) groups.set(key, group);
    return { group };
  };

  const record = (group: Group) => {
    const data: Record<string, unknown> = { group: group.value };
    specs.forEach((spec, i) => {
      data[spec.name] = resultOf(spec, group.accs[i] as Accumulator);
    });
    return data;
  };

  /** Sends a batch's groups on, each as the path of its first record. */
  const flush = async (batchNo: number, groups: Map<string, Group>) => {
    byBatch.delete(batchNo);
    const out: Item[] = [];
    for (const [key, group] of groups) {
      const carrier = group.carrier as Item;
      out.push({ ...carrier, key: `agg:${batchNo}:${key}`, data: record(group) });
    }
    if (out.length) await ctx.emit('out', out);
  };

  if (params.scope === 'batch')
    ctx.onBatchEnd(async (batchNo) => {
      const groups = byBatch.get(batchNo);
      if (groups) await flush(batchNo, groups);
    });

  return {
    async process(items) {
      const chunk = new Map<string, Group>();
      for (const item of items) {
        let groups = whole;
        if (params.scope === 'batch') {
          groups = item.batchNo === 0 ? chunk : (byBatch.get(item.batchNo) ?? new Map());
          if (item.batchNo !== 0) byBatch.set(item.batchNo, groups);
        }
        const { group, error } = await add(groups, item);
        if (error !== undefined || !group) {
          await ctx.fail(item, { message: error ?? 'not aggregated', code: 'aggregate' }, 1);
          continue;
        }
        if (params.scope === 'batch' && group.carrier === undefined) group.carrier = item;
        else ctx.absorb([item]);
      }
      if (chunk.size) await flush(0, chunk);
    },
    async finish() {
      if (params.scope !== 'run' || whole.size === 0) return;
      base ??= ctx.reserve(whole.size);
      const first = base;
      await ctx.create(
        [...whole].map(([key, group], i) => ({ seq: first + i, key: `agg:${key}`, data: record(group) })),
      );
    },
    state() {
      if (params.scope !== 'run') return undefined;
      const s: RunState = { groups: [...whole].map(([key, g]) => [key, g.value, g.accs]) };
      if (base !== undefined) s.base = base;
      return s;
    },
  };
};
