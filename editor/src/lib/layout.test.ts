import { describe, expect, it } from 'vitest';
import { layeredLayout, layerNodes } from './layout';

describe('layerNodes', () => {
  it('puts each node one column after the longest path to it', () => {
    const layers = layerNodes(
      ['t', 's', 'b', 'w', 'late'],
      [
        { source: 't', target: 's' },
        { source: 's', target: 'b' },
        { source: 'b', target: 'w' },
        { source: 's', target: 'w' },
        { source: 'w', target: 'late' },
      ],
    );
    expect(Object.fromEntries(layers)).toEqual({ t: 0, s: 1, b: 2, w: 3, late: 4 });
  });

  it('terminates on cycles and ignores unknown nodes', () => {
    const layers = layerNodes(
      ['a', 'b', 'c'],
      [
        { source: 'a', target: 'b' },
        { source: 'b', target: 'c' },
        { source: 'c', target: 'b' },
        { source: 'a', target: 'ghost' },
        { source: 'a', target: 'a' },
      ],
    );
    expect(layers.get('a')).toBe(0);
    expect(layers.get('b')).toBeGreaterThan(0);
    expect(layers.get('c')).toBeGreaterThan(0);
    expect(layers.size).toBe(3);
  });
});

describe('layeredLayout', () => {
  it('lays a chain out left to right on one row', () => {
    const pos = layeredLayout(
      ['a', 'b', 'c'],
      [
        { source: 'a', target: 'b' },
        { source: 'b', target: 'c' },
      ],
      { columnGap: 100, rowGap: 10, portOffset: 50, nodeHeight: 40 },
    );
    expect(pos.get('a')).toEqual({ x: 0, y: 0 });
    expect(pos.get('b')).toEqual({ x: 100, y: 0 });
    expect(pos.get('c')).toEqual({ x: 200, y: 0 });
  });

  it('puts the target of a later port (e.g. error) below the main one', () => {
    const pos = layeredLayout(
      ['src', 'errors', 'ok'],
      [
        { source: 'src', target: 'errors', rank: 1 },
        { source: 'src', target: 'ok', rank: 0 },
      ],
      { columnGap: 100, rowGap: 10, portOffset: 50, nodeHeight: 40 },
    );
    expect(pos.get('ok')).toEqual({ x: 100, y: 0 });
    expect(pos.get('errors')).toEqual({ x: 100, y: 50 });
  });

  it('never stacks two nodes of a column on each other', () => {
    const pos = layeredLayout(
      ['a', 'b', 'c', 'd'],
      [
        { source: 'a', target: 'b' },
        { source: 'a', target: 'c' },
        { source: 'a', target: 'd' },
      ],
      { columnGap: 100, rowGap: 10, portOffset: 50, nodeHeight: 40 },
    );
    const ys = ['b', 'c', 'd'].map((id) => pos.get(id)?.y);
    expect(new Set(ys).size).toBe(3);
    expect(pos.get('b')?.x).toBe(100);
  });

  it('keeps taller nodes apart by their height', () => {
    const pos = layeredLayout(['a', 'b'], [], { rowGap: 10 }, new Map([['a', 200]]));
    expect(pos.get('b')?.y).toBe(210);
  });

  it('places disconnected nodes in the first column, one per row', () => {
    const pos = layeredLayout(['a', 'b'], [], { columnGap: 100, rowGap: 10, portOffset: 50, nodeHeight: 40 });
    expect(pos.get('a')).toEqual({ x: 0, y: 0 });
    expect(pos.get('b')).toEqual({ x: 0, y: 50 });
  });
});
