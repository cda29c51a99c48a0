import { describe, expect, it } from 'vitest';
import { autoLayout } from './auto-layout';

describe('autoLayout', () => {
  it('lays a flow out left to right without overlaps, the error branch off the main line', () => {
    const nodes = ['start', 'src', 'batch', 'write', 'rejects', 'keep'].map((id, i) => ({
      id,
      type: ['manual', 'generate', 'batch', 'http-write', 'error-branch', 'collect'][i] as string,
      params: {},
    }));
    const edges = [
      { source: 'start', sourcePort: 'out', target: 'src' },
      { source: 'src', sourcePort: 'out', target: 'batch' },
      { source: 'batch', sourcePort: 'out', target: 'write' },
      { source: 'write', sourcePort: 'error', target: 'rejects' },
      { source: 'rejects', sourcePort: 'out', target: 'keep' },
    ];
    const p = autoLayout({ nodes, edges });
    const x = (id: string) => p[id]?.x as number;
    expect(x('start')).toBeLessThan(x('src'));
    expect(x('src')).toBeLessThan(x('batch'));
    expect(x('batch')).toBeLessThan(x('write'));
    expect(x('write')).toBeLessThan(x('rejects'));
    const boxes = Object.values(p);
    for (const [i, a] of boxes.entries())
      for (const b of boxes.slice(i + 1)) expect(Math.abs(a.x - b.x) >= 200 || Math.abs(a.y - b.y) >= 100).toBe(true);
  });

  it('places every node of a 300-node flow, each in its own spot', () => {
    const nodes = Array.from({ length: 300 }, (_, i) => ({ id: `n${i}`, type: 'map', params: {} }));
    const edges = nodes.slice(1).map((n, i) => ({ source: `n${Math.floor(i / 2)}`, sourcePort: 'out', target: n.id }));
    const p = autoLayout({ nodes, edges });
    expect(Object.keys(p)).toHaveLength(300);
    expect(new Set(Object.values(p).map((xy) => `${xy.x},${xy.y}`)).size).toBe(300);
  });
});
