import { type FlowEstimate, flowSchema } from '@sluice/shared';
import { describe, expect, it } from 'vitest';
import { aboutMs, draftEstimate, estimateTooltip, formatEta, partsOf, runButtonEstimate } from './estimate';

const doc = flowSchema.parse({
  format: 1,
  name: 'draft',
  nodes: [
    { id: 'start', type: 'manual' },
    { id: 'src', type: 'http-source', params: { url: 'https://example.test/x' } },
    { id: 'batch', type: 'batch', params: { size: 50 } },
    { id: 'pause', type: 'delay', params: { ms: 200 } },
  ],
  edges: [
    { source: 'start', target: 'src' },
    { source: 'src', target: 'batch' },
    { source: 'batch', target: 'pause' },
  ],
});

describe('the editor’s run estimate', () => {
  it('estimates the draft with what the server found', () => {
    const server = {
      facts: { sourceCounts: {}, lastRun: { runId: '3', records: 1000 }, perRecord: { ms: 4, runs: ['3'] } },
    } as unknown as FlowEstimate;
    const e = draftEstimate(doc, server);
    expect(e.estimateMs).toBe(4000 + 19 * 200);
    expect(runButtonEstimate(e)).toBe('about 8 s');
    expect(partsOf(e, 'pause').map((p) => p.text)).toEqual([
      '19 waits of 200 ms between 20 batches of 50: 3.8 s, exact',
    ]);
    expect(estimateTooltip(e).split('\n')[0]).toBe('Estimated duration: about 8 s');
  });

  it('a count the user sets stands in for the source that cannot tell', () => {
    const e = draftEstimate(doc, undefined, 500);
    expect(e.records).toBe(500);
    expect(partsOf(e, 'src').map((p) => p.text)).toEqual(['500 records: the count given']);
    expect(runButtonEstimate(e)).toBe('at least 2 s');
  });

  it('says nothing on the button when nothing is known, and the lower bound when only that is', () => {
    expect(runButtonEstimate(draftEstimate(doc, undefined))).toBeNull();
    const bound = draftEstimate(doc, {
      facts: { sourceCounts: {}, lastRun: { runId: '1', records: 1000 }, perRecord: null },
    } as unknown as FlowEstimate);
    expect(runButtonEstimate(bound)).toBe('at least 4 s');
  });

  it('says durations roughly and ETAs as a clock', () => {
    expect([400, 8200, 200_000, 5_400_000].map(aboutMs)).toEqual([
      'under 1 s',
      'about 8 s',
      'about 3 min',
      'about 1 h 30 min',
    ]);
    expect([42_000, 725_000, 3_729_000].map(formatEta)).toEqual(['0:42', '12:05', '1:02:09']);
  });
});
