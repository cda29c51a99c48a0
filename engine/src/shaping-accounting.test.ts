import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { startRun } from './run.js';
import {
  dieAndResume,
  fakeConnectors,
  flowOf,
  json,
  MemoryRunStore,
  SimulatedClock,
  type TestEdge,
  type TestNode,
  testRuntime,
} from './testing/index.js';

type Step =
  | { kind: 'split' }
  | { kind: 'dedupe'; mod: number }
  | { kind: 'aggregate'; mod: number; scope: 'batch' | 'run'; maxGroups: number }
  | { kind: 'filter'; mod: number }
  | { kind: 'write'; failMod: number; handled: boolean };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.constant({ kind: 'split' as const }),
  fc.record({ kind: fc.constant('dedupe' as const), mod: fc.integer({ min: 1, max: 9 }) }),
  fc.record({
    kind: fc.constant('aggregate' as const),
    mod: fc.integer({ min: 1, max: 6 }),
    scope: fc.constantFrom('batch' as const, 'run' as const),
    maxGroups: fc.integer({ min: 1, max: 8 }),
  }),
  fc.record({ kind: fc.constant('filter' as const), mod: fc.integer({ min: 2, max: 5 }) }),
  fc.record({ kind: fc.constant('write' as const), failMod: fc.integer({ min: 2, max: 7 }), handled: fc.boolean() }),
);

/**
 * source → map (gives every record `items`: an array of 0-2 numbers, or a string for one in four)
 * → [batch] → steps in a chain. Every record carries `index` all the way (aggregate groups keep it
 * as `group`), so filters, dedupe keys and write failures have something to work on.
 */
function buildFlow(n: number, batch: number | null, steps: Step[]) {
  const nodes: TestNode[] = [
    { id: 'start', type: 'manual' },
    { id: 'src', type: 'generate', params: { count: n, pageSize: 7 } },
    {
      id: 'arrays',
      type: 'map',
      params: { fields: [{ name: 'items', expression: 'index % 4 = 3 ? "none" : [0..(index % 4) - 1]' }] },
    },
  ];
  const edges: TestEdge[] = [
    { source: 'start', target: 'src' },
    { source: 'src', target: 'arrays' },
  ];
  let prev = 'arrays';
  const link = (id: string) => {
    edges.push({ source: prev, target: id });
    prev = id;
  };
  if (batch) {
    nodes.push({ id: 'batch', type: 'batch', params: { size: batch } });
    link('batch');
  }
  steps.forEach((s, i) => {
    const id = `s${i}`;
    if (s.kind === 'split') nodes.push({ id, type: 'split', params: { field: 'items', as: 'item' } });
    if (s.kind === 'dedupe') nodes.push({ id, type: 'dedupe', params: { key: `index % ${s.mod}` } });
    if (s.kind === 'filter') nodes.push({ id, type: 'filter', params: { condition: `index % ${s.mod} != 0` } });
    if (s.kind === 'aggregate') {
      nodes.push({
        id,
        type: 'aggregate',
        params: {
          groupBy: `index % ${s.mod}`,
          scope: s.scope,
          maxGroups: s.maxGroups,
          fields: [
            { name: 'index', op: 'first', value: 'index' },
            { name: 'items', op: 'collect', value: 'index' },
          ],
        },
      });
    }
    if (s.kind === 'write') {
      nodes.push({
        id,
        type: 'http-write',
        params: { url: `http://sink.test/${s.failMod}`, retry: { maxAttempts: 1 } },
      });
      if (s.handled) {
        nodes.push({ id: `${id}-errors`, type: 'error-branch' }, { id: `${id}-dead`, type: 'collect' });
        edges.push(
          { source: id, sourcePort: 'error', target: `${id}-errors` },
          { source: `${id}-errors`, target: `${id}-dead` },
        );
      }
    }
    link(id);
  });
  return flowOf(nodes, edges, { name: 'generated' });
}

describe('accounting with split, aggregate and dedupe, over generated flows', () => {
  it('read = succeeded + filtered + failed, per node in = out + error + filtered, one outcome per record', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 40 }),
        fc.option(fc.integer({ min: 1, max: 6 }), { nil: null }),
        fc.array(step, { minLength: 1, maxLength: 5 }),
        async (n, batch, steps) => {
          const flow = buildFlow(n, batch, steps);
          const clock = new SimulatedClock(0);
          const store = new MemoryRunStore();
          const connectors = fakeConnectors((req, body) => {
            const failMod = Number(new URL(req.url).pathname.slice(1));
            const index = (body as { index?: unknown }).index;
            return typeof index === 'number' && index % failMod === 0
              ? json(422, { message: 'rejected' })
              : json(201, {});
          });
          const result = await clock.run(
            startRun({ runId: 'p', flow, clock, runtime: testRuntime, store, connectors }).done,
          );
          const c = result.counts;
          expect(result.error ?? result.status).toBe('succeeded');
          expect(c.succeeded + c.filtered + c.failed).toBe(c.read);
          expect(c.cancelled).toBe(0);
          for (const [id, nc] of Object.entries(result.nodeCounts)) {
            if (['start', 'src'].includes(id)) continue;
            expect(nc.in, `node ${id}`).toBe(nc.out + nc.error + nc.filtered);
          }
          expect(result.nodeCounts.src?.out).toBe(n);
          // one outcome per record: the n read, and the groups whole-run aggregates made (keys agg:…)
          const seqs = store.outcomes.map((o) => o.seq);
          expect(new Set(seqs).size).toBe(seqs.length);
          expect(seqs.length).toBe(c.read);
          const made = store.outcomes.filter((o) => o.seq >= n);
          expect(made.every((o) => o.key.startsWith('agg:'))).toBe(true);
          expect(c.read).toBe(n + made.length);
          expect(
            store.outcomes
              .filter((o) => o.seq < n)
              .map((o) => o.seq)
              .sort((a, b) => a - b),
          ).toEqual(Array.from({ length: n }, (_, i) => i));
          expect(store.byStatus('failed').every((o) => o.error?.message)).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('a run that dies after any commit and resumes settles every record once, counts adding up', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 40 }),
        fc.option(fc.integer({ min: 1, max: 6 }), { nil: null }),
        fc.array(step, { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 0, max: 12 }),
        async (n, batch, steps, commits) => {
          const flow = buildFlow(n, batch, steps);
          const connectors = fakeConnectors((req, body) => {
            const failMod = Number(new URL(req.url).pathname.slice(1));
            const index = (body as { index?: unknown }).index;
            return typeof index === 'number' && index % failMod === 0
              ? json(422, { message: 'rejected' })
              : json(201, {});
          });
          const { result, outcomes } = await dieAndResume(flow, commits, connectors);
          const c = result.counts;
          expect(result.error ?? result.status).toBe('succeeded');
          expect(c.succeeded + c.filtered + c.failed).toBe(c.read);
          const seqs = outcomes.map((o) => o.seq);
          expect(new Set(seqs).size).toBe(seqs.length);
          expect(seqs.length).toBe(c.read);
          expect(seqs.filter((s) => s < n).length).toBe(n);
          for (const [id, nc] of Object.entries(result.nodeCounts)) {
            if (['start', 'src'].includes(id)) continue;
            expect(nc.in, `node ${id}`).toBe(nc.out + nc.error + nc.filtered);
          }
        },
      ),
      { numRuns: 100 },
    );
  });
});
