import { describe, expect, it } from 'vitest';
import { chain, flowDocument, flowOf, sourceFlow } from './flows.js';

describe('the test-flow builder', () => {
  it('chains nodes from their out ports, or from the port a step names', () => {
    expect(chain('a', 'b', 'c')).toEqual([
      { source: 'a', target: 'b' },
      { source: 'b', target: 'c' },
    ]);
    expect(chain('write:error', 'errors', 'dead')).toEqual([
      { source: 'write', sourcePort: 'error', target: 'errors' },
      { source: 'errors', target: 'dead' },
    ]);
  });

  it('makes a valid flow with defaults applied, chaining the nodes when no edges are given', () => {
    const flow = flowOf([
      { id: 'start', type: 'manual' },
      { id: 'src', type: 'inline-records' },
      { id: 'cut', type: 'batch' },
    ]);
    expect(flow.edges.map((e) => [e.source, e.sourcePort, e.target])).toEqual([
      ['start', 'out', 'src'],
      ['src', 'out', 'cut'],
    ]);
    expect(flow.nodes[2]?.params).toEqual({ size: 50 });
    expect(flow.settings).toEqual({ onError: 'continue', maxInFlight: 10_000 });
    expect(sourceFlow('generate', { count: 3 }).nodes.map((n) => n.type)).toEqual(['manual', 'generate', 'collect']);
  });

  it('refuses an invalid flow, saying what is wrong', () => {
    expect(() => flowOf([{ id: 'cut', type: 'batch', params: { size: 'ten' } }])).toThrow(/size/);
    expect(flowDocument([{ id: 'a', type: 'manual' }], [], { name: 'n' })).toEqual({
      format: 1,
      name: 'n',
      nodes: [{ id: 'a', type: 'manual' }],
      edges: [],
    });
  });
});
