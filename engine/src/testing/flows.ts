import { type Flow, type FlowInput, validateFlow } from '@sluice/shared';
import type { Checkpoint, ResumeState } from '../ports.js';

/** Nodes and edges as a test writes them (parameters left out take their defaults). */
export type TestNode = FlowInput['nodes'][number];
export type TestEdge = NonNullable<FlowInput['edges']>[number];

export interface TestFlowOptions {
  name?: string;
  settings?: FlowInput['settings'];
}

/**
 * Edges from each node to the next, in the order given: from the `out` port, or from the port a
 * step names after a colon (`chain('write:error', 'errors', 'dead')`; node ids have no colons).
 */
export function chain(...steps: string[]): TestEdge[] {
  return steps.slice(1).map((to, i) => {
    const [source, sourcePort] = (steps[i] as string).split(':') as [string, string | undefined];
    const target = to.split(':')[0] as string;
    return sourcePort ? { source, sourcePort, target } : { source, target };
  });
}

/** How a resumed run starts from a checkpoint, counting the records below its low-water mark as succeeded. */
export function resumeFrom(checkpoint: Checkpoint): ResumeState {
  const lowWater = checkpoint.lowWater;
  return {
    checkpoint,
    counts: { read: lowWater, succeeded: lowWater, filtered: 0, failed: 0, cancelled: 0 },
    nodeCounts: {},
    settled: new Set<number>(),
  };
}

/** A flow document of these nodes and edges; without edges, the nodes are chained in order. */
export function flowDocument(nodes: TestNode[], edges?: TestEdge[], options: TestFlowOptions = {}): FlowInput {
  return {
    format: 1,
    name: options.name ?? 'test',
    ...(options.settings ? { settings: options.settings } : {}),
    nodes,
    edges: edges ?? chain(...nodes.map((n) => n.id)),
  };
}

/**
 * A valid flow, defaults applied, as a run is given it; throws with every problem when the
 * document is not valid, so a mistake in a test shows where it is made.
 */
export function validFlow(document: unknown): Flow {
  const result = validateFlow(document);
  if (!result.ok || !result.flow) throw new Error(`not a valid flow: ${JSON.stringify(result.problems)}`);
  return result.flow;
}

/** A valid flow of these nodes and edges (chained in order without edges). */
export function flowOf(nodes: TestNode[], edges?: TestEdge[], options: TestFlowOptions = {}): Flow {
  return validFlow(flowDocument(nodes, edges, options));
}

/**
 * The flow most source tests run: a manual trigger `start` → the source `src` (of this type and
 * these parameters) → a collect node `out`.
 */
export function sourceFlow(type: string, params: Record<string, unknown>, options: TestFlowOptions = {}): Flow {
  return flowOf(
    [
      { id: 'start', type: 'manual' },
      { id: 'src', type, params },
      { id: 'out', type: 'collect' },
    ],
    undefined,
    options,
  );
}
