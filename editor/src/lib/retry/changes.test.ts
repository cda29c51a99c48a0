import type { Flow } from '@sluice/shared';
import { describe, expect, it } from 'vitest';
import { retryReach } from './changes';

const flow = (mapExpr: string, writeUrl: string): Flow =>
  ({
    format: 1,
    name: 'f',
    settings: { onError: 'continue', maxInFlight: 10_000 },
    nodes: [
      { id: 'start', type: 'manual', params: {} },
      { id: 'src', type: 'inline-records', params: { records: [] } },
      { id: 'map', type: 'map', params: { fields: [{ name: 'a', expression: mapExpr }] } },
      { id: 'write', type: 'http-write', params: { url: writeUrl } },
    ],
    edges: [
      { source: 'start', target: 'src' },
      { source: 'src', target: 'map' },
      { source: 'map', target: 'write' },
    ],
  }) as unknown as Flow;

describe('what a retry on the current version reaches', () => {
  it('a change before the failing node does not reach its failed records', () => {
    expect(retryReach(flow('a', 'http://x/1'), flow('a ? a : "x"', 'http://x/1'), ['write'])).toEqual({
      changedAtFailure: [],
      changedBefore: ['map'],
    });
  });

  it('a change at the failing node does', () => {
    expect(retryReach(flow('a', 'http://x/1'), flow('a', 'http://x/2'), ['write'])).toEqual({
      changedAtFailure: ['write'],
      changedBefore: [],
    });
    expect(retryReach(flow('a', 'u'), flow('b', 'u'), ['map'])).toEqual({
      changedAtFailure: ['map'],
      changedBefore: [],
    });
  });

  it('moving nodes or renaming them changes nothing', () => {
    const moved = flow('a', 'u');
    moved.nodes = moved.nodes.map((n) => ({ ...n, name: 'renamed', position: { x: 1, y: 2 } }));
    expect(retryReach(flow('a', 'u'), moved, ['write'])).toEqual({ changedAtFailure: [], changedBefore: [] });
  });
});
