import type { Flow, FlowNode } from '@sluice/shared';
import { describe, expect, it } from 'vitest';
import { describeSettings, formatSpan } from './meaning';

/** A straight line of nodes: trigger → source → … → collect. */
function line(...nodes: { id: string; type: string; params?: Record<string, unknown> }[]): Flow {
  const all: FlowNode[] = nodes.map((n) => ({ ...n, params: n.params ?? {} }));
  return {
    format: 2,
    name: 'test',
    settings: { onError: 'continue', maxInFlight: 10_000 },
    nodes: all,
    edges: all.slice(1).map((n, i) => ({ source: all[i]!.id, sourcePort: 'out', target: n.id })),
  };
}

const trigger = { id: 'start', type: 'manual' };
const generate = (count: number) => ({ id: 'source', type: 'generate', params: { count } });
const batch = (size: number) => ({ id: 'batch', type: 'batch', params: { size } });
const fixed = (ms: number) => ({ id: 'delay', type: 'delay', params: { mode: 'fixed', ms } });
const rate = (records: number, intervalMs: number) => ({
  id: 'delay',
  type: 'delay',
  params: { mode: 'rate', records, intervalMs },
});

describe('describeSettings: batch', () => {
  it('counts the batches of a generated source', () => {
    const flow = line(trigger, generate(1000), batch(50), fixed(200));
    expect(describeSettings(flow, 'batch')).toBe('1,000 records → 20 batches of 50');
  });

  it('counts inline records, and says when the last batch is short', () => {
    const records = Array.from({ length: 7 }, (_, i) => ({ key: String(i) }));
    const flow = line(trigger, { id: 'source', type: 'inline-records', params: { records } }, batch(3));
    expect(describeSettings(flow, 'batch')).toBe('7 records → 3 batches of 3 (the last of 1)');
    const one = line(trigger, { id: 'source', type: 'inline-records', params: { records } }, batch(50));
    expect(describeSettings(one, 'batch')).toBe('7 records → 1 batch of 7');
  });

  it('uses the defaults of params left out', () => {
    const flow = line(trigger, { id: 'source', type: 'generate' }, { id: 'batch', type: 'batch' });
    expect(describeSettings(flow, 'batch')).toBe('1,000 records → 20 batches of 50');
  });

  it('gives the size alone when the number of records is not known', () => {
    const http = { id: 'source', type: 'http-source', params: { connection: 'sandbox', url: '/items' } };
    expect(describeSettings(line(trigger, http, batch(50)), 'batch')).toBe('batches of 50');
    const filtered = line(trigger, generate(1000), { id: 'f', type: 'filter', params: { condition: 'x' } }, batch(50));
    expect(describeSettings(filtered, 'batch')).toBe('batches of 50');
    const loose = line(trigger, generate(1000));
    loose.nodes.push({ id: 'batch', type: 'batch', params: { size: 50 } });
    expect(describeSettings(loose, 'batch')).toBe('batches of 50');
  });

  it('says nothing for params that do not parse', () => {
    expect(describeSettings(line(trigger, generate(1000), batch(0)), 'batch')).toBeNull();
  });
});

describe('describeSettings: delay', () => {
  it('adds up the waits between batches in fixed mode', () => {
    const flow = line(trigger, generate(1000), batch(50), fixed(200));
    expect(describeSettings(flow, 'delay')).toBe('at least 19 × 200 ms = 3.8 s of delays over 20 batches');
  });

  it('gives the wait alone when the number of batches is not known', () => {
    const http = { id: 'source', type: 'http-source', params: { connection: 'sandbox', url: '/items' } };
    expect(describeSettings(line(trigger, http, batch(50), fixed(200)), 'delay')).toBe('200 ms between batches');
    expect(describeSettings(line(trigger, generate(1000), fixed(1500)), 'delay')).toBe('1.5 s between batches');
  });

  it('sees that one batch needs no wait', () => {
    expect(describeSettings(line(trigger, generate(10), batch(50), fixed(200)), 'delay')).toBe('1 batch → no wait');
  });

  it('works out the shortest time in rate mode', () => {
    const flow = line(trigger, generate(1000), batch(50), rate(10, 1000));
    expect(describeSettings(flow, 'delay')).toBe('at most 10 records per 1 s → 1,000 records take at least 99 s');
    const few = line(trigger, generate(5), rate(10, 1000));
    expect(describeSettings(few, 'delay')).toBe('at most 10 records per 1 s → 5 records pass without waiting');
    const unknown = line(
      trigger,
      { id: 'source', type: 'http-source', params: { url: 'https://x.test' } },
      rate(1, 60_000),
    );
    expect(describeSettings(unknown, 'delay')).toBe('at most 1 record per 1 min');
  });
});

describe('describeSettings: other nodes', () => {
  it('has nothing to say about them', () => {
    const flow = line(trigger, generate(1000), batch(50));
    expect(describeSettings(flow, 'source')).toBeNull();
    expect(describeSettings(flow, 'nope')).toBeNull();
  });
});

describe('formatSpan', () => {
  it('is short and exact enough', () => {
    expect(formatSpan(200)).toBe('200 ms');
    expect(formatSpan(3800)).toBe('3.8 s');
    expect(formatSpan(1250)).toBe('1.25 s');
    expect(formatSpan(99_000)).toBe('99 s');
    expect(formatSpan(60_000)).toBe('1 min');
    expect(formatSpan(150_000)).toBe('2 min 30 s');
    expect(formatSpan(3_600_000 * 5 + 60_000 * 5)).toBe('5 h 5 min');
    expect(formatSpan(3_600_000 * 50)).toBe('2 d 2 h');
  });
});
