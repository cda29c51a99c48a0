import { describe, expect, it } from 'vitest';
import { FLOW_FORMAT, type FlowInput, migrateFlow } from './flow.js';
import { validateFlow } from './validate.js';

const good = (): FlowInput => ({
  format: 1,
  name: 'Inline to collect',
  nodes: [
    { id: 'start', type: 'manual' },
    { id: 'src', type: 'inline-records', params: { records: [{ key: 'a' }], keyField: 'key' } },
    { id: 'batch', type: 'batch', params: { size: 10 } },
    { id: 'out', type: 'collect' },
  ],
  edges: [
    { source: 'start', target: 'src' },
    { source: 'src', target: 'batch' },
    { source: 'batch', target: 'out' },
  ],
});

const codes = (input: unknown) => validateFlow(input).problems.map((p) => `${p.severity}:${p.code}:${p.path}`);

describe('validateFlow', () => {
  it('accepts a good flow and applies defaults', () => {
    const result = validateFlow(good());
    expect(result.problems).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.flow?.settings.onError).toBe('continue');
    expect(result.flow?.edges[0]?.sourcePort).toBe('out');
    expect(result.flow?.nodes[2]?.params).toEqual({ size: 10 });
  });

  it('fills parameter defaults from the catalogue', () => {
    const flow = good();
    flow.nodes[2] = { id: 'batch', type: 'batch' };
    expect(validateFlow(flow).flow?.nodes[2]?.params).toEqual({ size: 50 });
  });

  it('refuses a document of an unknown format with a message naming the field', () => {
    const result = validateFlow({ ...good(), format: 3 });
    expect(result.ok).toBe(false);
    expect(result.problems[0]?.path).toBe('format');
    expect(result.problems[0]?.message).toMatch(/^format: must be 2/);
  });

  it('reads a format-1 document as format 2, without notes, and changes nothing else', () => {
    const old = good();
    expect(old.format).toBe(1);
    const result = validateFlow(old);
    expect(result.ok).toBe(true);
    expect(result.flow?.format).toBe(FLOW_FORMAT);
    expect(result.flow?.notes).toBeUndefined();
    expect(result.flow?.nodes.map((n) => n.id)).toEqual(old.nodes.map((n) => n.id));
    expect(migrateFlow(old)).toEqual({ ...old, format: 2 });
    expect(migrateFlow('not a flow')).toBe('not a flow');
  });

  it('keeps sticky notes with their defaults, and refuses notes that share an id or are too small', () => {
    const doc = { ...good(), format: 2, notes: [{ id: 'n1', text: '# Hi', position: { x: 0, y: 0 } }] };
    const result = validateFlow(doc);
    expect(result.ok).toBe(true);
    expect(result.flow?.notes).toEqual([
      { id: 'n1', text: '# Hi', colour: 'yellow', position: { x: 0, y: 0 }, width: 240, height: 160 },
    ]);
    const twice = validateFlow({ ...doc, notes: [...doc.notes, { ...doc.notes[0], width: 10 }] });
    expect(twice.problems.map((p) => p.path)).toEqual(['notes[1].width']);
    const same = validateFlow({ ...doc, notes: [...doc.notes, doc.notes[0]] });
    expect(same.problems.map((p) => `${p.code} ${p.path}`)).toEqual(['duplicate-id notes[1].id']);
  });

  it('reports every problem at once', () => {
    const flow = good();
    flow.nodes.push({ id: 'x', type: 'teleport' });
    flow.nodes.push({ id: 'batch', type: 'delay', params: { ms: -5 } });
    flow.nodes[2] = { id: 'batch', type: 'batch', params: { size: 0, colour: 'red' } };
    flow.edges?.push({ source: 'ghost', target: 'out' });
    flow.edges?.push({ source: 'src', sourcePort: 'sideways', target: 'out' });
    flow.edges?.push({ source: 'out', target: 'start' });
    const found = codes(flow);
    expect(found).toEqual(
      expect.arrayContaining([
        'error:unknown-node-type:nodes[4].type',
        'error:duplicate-id:nodes[5].id',
        'error:bad-parameter:nodes[5].params.ms',
        'error:bad-parameter:nodes[2].params.size',
        'error:bad-parameter:nodes[2].params',
        'error:unknown-node:edges[3].source',
        'error:unknown-port:edges[4].sourcePort',
        'error:no-input:edges[5].target',
        'warning:unreachable:nodes[4]',
      ]),
    );
    const size = validateFlow(flow).problems.find((p) => p.path === 'nodes[2].params.size');
    expect(size?.message).toContain('nodes[2].params.size:');
    expect(size?.nodeId).toBe('batch');
  });

  it('finds cycles and names the nodes on them', () => {
    const flow = good();
    flow.nodes.push({ id: 'm', type: 'map' });
    flow.edges = [
      { source: 'start', target: 'src' },
      { source: 'src', target: 'batch' },
      { source: 'batch', target: 'm' },
      { source: 'm', target: 'batch' },
      { source: 'm', target: 'out' },
    ];
    const cycle = validateFlow(flow).problems.find((p) => p.code === 'cycle');
    expect(cycle?.message).toContain('batch → m → batch');
  });

  it('needs a trigger and a source', () => {
    const found = codes({ format: 1, name: 'empty', nodes: [{ id: 'b', type: 'batch' }] });
    expect(found).toContain('error:no-trigger:nodes');
    expect(found).toContain('error:no-source:nodes');
  });

  it('takes a webhook trigger as the source of its records', () => {
    const flow: FlowInput = {
      format: 1,
      name: 'hook',
      nodes: [
        { id: 'hook', type: 'webhook' },
        { id: 'out', type: 'collect' },
      ],
      edges: [{ source: 'hook', target: 'out' }],
    };
    expect(validateFlow(flow).ok).toBe(true);
    expect(
      validateFlow({
        ...flow,
        nodes: [
          { id: 'hook', type: 'webhook', params: { maxBodyBytes: 0 } },
          { id: 'out', type: 'collect' },
        ],
      }).problems[0]?.path,
    ).toBe('nodes[0].params.maxBodyBytes');
  });

  it('checks schedule parameters', () => {
    const result = validateFlow({
      format: 1,
      name: 's',
      nodes: [
        { id: 'when', type: 'schedule', params: { cron: '*/5 * * * *', overlap: 'sometimes' } },
        { id: 'src', type: 'inline-records' },
      ],
      edges: [{ source: 'when', target: 'src' }],
    });
    expect(result.problems.map((p) => p.path)).toEqual(['nodes[0].params.overlap']);
  });

  it('needs a source connected to a trigger', () => {
    const flow = good();
    flow.edges = flow.edges?.slice(1);
    expect(codes(flow)).toContain('error:source-not-connected:edges');
  });

  it('warns of unreachable nodes without failing the flow', () => {
    const flow = good();
    flow.nodes.push({ id: 'lonely', type: 'collect' });
    const result = validateFlow(flow);
    expect(result.ok).toBe(true);
    expect(result.problems).toEqual([
      expect.objectContaining({ severity: 'warning', code: 'unreachable', nodeId: 'lonely' }),
    ]);
  });

  it('takes error-branch input only from error ports', () => {
    const flow = good();
    flow.nodes.push({ id: 'eb', type: 'error-branch' });
    flow.edges?.push({ source: 'batch', target: 'eb' });
    expect(codes(flow)).toContain('error:error-handler-input:edges[3].sourcePort');
  });

  it('requires an absolute URL when an HTTP node names no connection', () => {
    const flow = good();
    flow.nodes.push({ id: 'w', type: 'http-write', params: { url: '/api/things' } });
    flow.edges?.push({ source: 'batch', target: 'w' });
    const problem = validateFlow(flow).problems.find((p) => p.path === 'nodes[4].params.url');
    expect(problem?.message).toMatch(/absolute http\(s\) URL/);
  });

  it('rejects a duplicate edge', () => {
    const flow = good();
    flow.edges?.push({ source: 'batch', target: 'out' });
    expect(codes(flow)).toContain('error:duplicate-edge:edges[3].target');
  });

  it('describes a non-object input', () => {
    expect(validateFlow('nope').problems[0]?.message).toMatch(/^flow: /);
  });
});
