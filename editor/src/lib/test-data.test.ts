import { type Flow, validateFlow } from '@sluice/shared';
import { describe, expect, it } from 'vitest';
import { fieldPaths, getTestData, inputRecords, resetTestData, setTestData, type TestDataState } from './test-data';

const doc = (pinned?: Record<string, Record<string, unknown>[]>): Flow => {
  const r = validateFlow({
    format: 1,
    name: 'x',
    nodes: [
      { id: 'start', type: 'manual' },
      { id: 'src', type: 'generate' },
      { id: 'm', type: 'map' },
    ],
    edges: [
      { source: 'start', target: 'src' },
      { source: 'src', target: 'm' },
    ],
    ...(pinned ? { pinned } : {}),
  });
  if (!r.flow) throw new Error('bad fixture');
  return r.flow;
};

const tested = (nodes: TestDataState['nodes']): TestDataState => ({
  flowId: 'f',
  runId: '1',
  status: 'done',
  error: null,
  nodes,
  at: 0,
});

describe('test data', () => {
  it('a node’s input from the last test, else the pinned data or test output of the node feeding it', () => {
    const empty = tested({});
    expect(inputRecords(empty, doc(), 'm')).toEqual([]);
    expect(inputRecords(empty, doc({ src: [{ a: 1 }] }), 'm')).toEqual([{ a: 1 }]);
    const out = tested({ src: { input: [], output: [{ b: 2 }], failed: [] } });
    expect(inputRecords(out, doc(), 'm')).toEqual([{ b: 2 }]);
    const own = tested({ m: { input: [{ c: 3 }], output: [], failed: [] } });
    expect(inputRecords(own, doc({ src: [{ a: 1 }] }), 'm')).toEqual([{ c: 3 }]);
  });

  it('field paths, nested ones dotted', () => {
    expect(fieldPaths([{ a: 1, b: { c: 2 } }, { d: [1] }])).toEqual(['a', 'b', 'b.c', 'd']);
    expect(fieldPaths([{ a: 1, b: { c: 2 } }], false)).toEqual(['a', 'b']);
  });

  it('is one store for the page', () => {
    setTestData(tested({}));
    expect(getTestData().runId).toBe('1');
    resetTestData();
    expect(getTestData().status).toBe('idle');
  });
});

describe('what a node did in the last test', () => {
  it('in words', async () => {
    const { testedText } = await import('./test-data');
    const data = tested({
      m: { input: [{}, {}], output: [{}], failed: [{ data: {}, error: 'bad' }] },
      w: { input: [{}], output: [{}], failed: [], dryRun: true },
    });
    expect(testedText(data, 'm')).toBe('In the last test: 2 in, 1 out, 1 failed (bad).');
    expect(testedText(data, 'w')).toBe('In the last test: 1 in, 1 request(s) not sent.');
    expect(testedText(data, 'x')).toBeUndefined();
  });
});
