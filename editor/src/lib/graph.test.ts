import type { Flow } from '@sluice/shared';
import { describe, expect, it } from 'vitest';
import { buildGraph, edgeId, problemsByNode } from './graph';

const flow: Flow = {
  format: 2,
  name: 'Sync',
  settings: { onError: 'continue', maxInFlight: 10_000 },
  nodes: [
    { id: 'start', type: 'manual', params: {} },
    { id: 'read', type: 'inline-records', params: { records: [{ a: 1 }] } },
    { id: 'check', type: 'branch', name: 'Is urgent?', params: { condition: 'priority > 2' } },
    { id: 'write', type: 'http-write', params: { connection: 'crm', url: '/x' }, position: { x: 5, y: 7 } },
    { id: 'oops', type: 'error-branch', params: {} },
    { id: 'odd', type: 'teleport', params: {} },
  ],
  edges: [
    { source: 'start', sourcePort: 'out', target: 'read' },
    { source: 'read', sourcePort: 'out', target: 'check' },
    { id: 'urgent', source: 'check', sourcePort: 'true', target: 'write' },
    { source: 'check', sourcePort: 'error', target: 'oops' },
    { source: 'write', sourcePort: 'error', target: 'oops' },
    { source: 'odd', sourcePort: 'beam', target: 'write' },
    { source: 'check', sourcePort: 'out', target: 'nowhere' },
  ],
};

describe('buildGraph', () => {
  const graph = buildGraph(flow, [
    { severity: 'error', code: 'unknown-node-type', path: 'nodes[5].type', message: 'unknown', nodeId: 'odd' },
    { severity: 'warning', code: 'x', path: 'nodes[1].params', message: 'by path' },
  ]);
  const node = (id: string) => graph.nodes.find((n) => n.id === id);

  it('gives each node the component of its group and its labels', () => {
    expect(graph.nodes.map((n) => n.type)).toEqual(['trigger', 'source', 'control', 'sink', 'error', 'unknown']);
    expect(node('check')?.data.label).toBe('Is urgent?');
    expect(node('read')?.data.label).toBe('Inline records');
    expect(node('check')?.data.summary).toBe('priority > 2');
    expect(node('start')?.data.hasInput).toBe(false);
    expect(node('check')?.data.outputs).toEqual(['true', 'false', 'error']);
  });

  it('keeps given positions and lays out the rest left to right', () => {
    expect(node('write')?.position).toEqual({ x: 5, y: 7 });
    const x = (id: string) => node(id)?.position.x ?? -1;
    expect(x('start')).toBeLessThan(x('read'));
    expect(x('read')).toBeLessThan(x('check'));
  });

  it('attaches problems by node id and by path', () => {
    expect(node('odd')?.data.problems).toHaveLength(1);
    expect(node('read')?.data.problems[0]?.message).toBe('by path');
    expect(node('odd')?.data.outputs).toEqual(['beam']);
  });

  it('builds edges from ports, marking error edges', () => {
    expect(graph.edges.map((e) => e.id)).toEqual([
      'start:out->read',
      'read:out->check',
      'urgent',
      'check:error->oops',
      'write:error->oops',
      'odd:beam->write',
    ]);
    const error = graph.edges.find((e) => e.id === 'check:error->oops');
    expect(error?.sourceHandle).toBe('error');
    expect(error?.label).toBe('error');
    expect(error?.className).toBe('edge-error');
    expect(error?.style?.strokeDasharray).toBeTruthy();
    expect(graph.edges.find((e) => e.id === 'urgent')?.label).toBe('true');
  });
});

describe('helpers', () => {
  it('builds edge ids', () => {
    expect(edgeId({ source: 'a', sourcePort: 'out', target: 'b' })).toBe('a:out->b');
    expect(edgeId({ id: 'e1', source: 'a', sourcePort: 'out', target: 'b' })).toBe('e1');
  });

  it('ignores problems that belong to no node', () => {
    const map = problemsByNode(flow, [{ severity: 'error', code: 'no-trigger', path: 'nodes', message: 'm' }]);
    expect(map.size).toBe(0);
  });
});
