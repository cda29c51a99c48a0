import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { startRun } from './run.js';
import {
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
  | { kind: 'filter'; mod: number }
  | { kind: 'map'; failMod: number }
  | { kind: 'write'; failMod: number; transientMod: number; handled: boolean }
  | { kind: 'branch'; mod: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('filter' as const), mod: fc.integer({ min: 2, max: 5 }) }),
  fc.record({ kind: fc.constant('map' as const), failMod: fc.integer({ min: 2, max: 9 }) }),
  fc.record({
    kind: fc.constant('write' as const),
    failMod: fc.integer({ min: 2, max: 9 }),
    transientMod: fc.integer({ min: 2, max: 9 }),
    handled: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('branch' as const), mod: fc.integer({ min: 2, max: 4 }) }),
);

/** A generated flow: source → [batch] → steps in a chain, with sinks on branch sides and error ports. */
function buildFlow(n: number, batch: number | null, steps: Step[]) {
  const nodes: TestNode[] = [
    { id: 'start', type: 'manual' },
    { id: 'src', type: 'generate', params: { count: n, pageSize: 7 } },
  ];
  const edges: TestEdge[] = [{ source: 'start', target: 'src' }];
  let prev = 'src';
  let port = 'out';
  const link = (id: string) => {
    edges.push({ source: prev, sourcePort: port, target: id });
    prev = id;
    port = 'out';
  };
  if (batch) {
    nodes.push({ id: 'batch', type: 'batch', params: { size: batch } });
    link('batch');
  }
  steps.forEach((s, i) => {
    const id = `s${i}`;
    if (s.kind === 'filter') nodes.push({ id, type: 'filter', params: { condition: `index % ${s.mod} != 0` } });
    if (s.kind === 'map') {
      nodes.push({
        id,
        type: 'map',
        params: { fields: [{ name: 'x', expression: `index % ${s.failMod} = 1 ? $error("bad record") : index * 2` }] },
      });
    }
    if (s.kind === 'branch') {
      nodes.push({ id, type: 'branch', params: { condition: `index % ${s.mod} = 0` } });
      nodes.push({ id: `${id}-side`, type: 'collect' });
      edges.push({ source: id, sourcePort: 'false', target: `${id}-side` });
    }
    if (s.kind === 'write') {
      nodes.push({
        id,
        type: 'http-write',
        params: {
          url: `http://sink.test/${s.failMod}/${s.transientMod}`,
          retry: { maxAttempts: 2, initialDelayMs: 10, maxDelayMs: 10 },
          concurrency: 1 + (s.failMod % 3),
        },
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
    if (s.kind === 'branch') port = 'true';
  });
  return flowOf(nodes, edges, { name: 'generated' });
}

describe('accounting, over generated flows and failure patterns', () => {
  it('read = succeeded + filtered + failed, per node in = out + error + filtered, one outcome per record', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 60 }),
        fc.option(fc.integer({ min: 1, max: 9 }), { nil: null }),
        fc.array(step, { minLength: 1, maxLength: 5 }),
        async (n, batch, steps) => {
          const flow = buildFlow(n, batch, steps);
          const clock = new SimulatedClock(0);
          const store = new MemoryRunStore();
          const attempts = new Map<string, number>();
          const connectors = fakeConnectors((req, body) => {
            const [failMod, transientMod] = new URL(req.url).pathname.split('/').slice(1).map(Number) as [
              number,
              number,
            ];
            const index = (body as { index: number }).index;
            const key = `${req.url}:${index}`;
            attempts.set(key, (attempts.get(key) ?? 0) + 1);
            if (index % failMod === 0) return json(422, { message: 'rejected' });
            if (index % transientMod === 1 && (attempts.get(key) ?? 0) === 1) return json(503, {});
            return json(201, {});
          });
          const result = await clock.run(
            startRun({ runId: 'p', flow, clock, runtime: testRuntime, store, connectors, random: () => 0.5 }).done,
          );
          const c = result.counts;
          expect(result.error ?? result.status).toBe('succeeded');
          expect(c.read).toBe(n);
          expect(c.succeeded + c.filtered + c.failed).toBe(c.read);
          expect(c.cancelled).toBe(0);
          for (const [id, nc] of Object.entries(result.nodeCounts)) {
            if (['start', 'src'].includes(id)) continue;
            expect(nc.in, `node ${id}`).toBe(nc.out + nc.error + nc.filtered);
          }
          expect(result.nodeCounts.src?.out).toBe(n);
          const seqs = store.outcomes.map((o) => o.seq);
          expect(new Set(seqs).size).toBe(n);
          expect(seqs.length).toBe(n);
          expect(store.byStatus('failed').every((o) => o.error?.message)).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
  });
});
