import { describe, expect, it } from 'vitest';
import type { FlowInput } from './flow.js';
import { nodeTypes } from './nodes/index.js';
import { describeProblem, humanise, paramLabel, plainIssue } from './problem-text.js';
import { type Problem, validateFlow } from './validate.js';

/** What a message people read must never hold: a schema path, or zod's own wording. */
const RAW =
  /nodes\[\d|edges\[\d|params\.|\bparams\b|Invalid input|Invalid option|Too (small|big)|Unrecognized key|received (undefined|string|number)/;

interface Schema {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  oneOf?: Schema[];
  anyOf?: Schema[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  minItems?: number;
}

const typeOf = (s: Schema) => (Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type);

/** Values that break a field of this schema, one per kind of issue zod can raise for it. */
function badValues(schema: Schema): unknown[] {
  const out: unknown[] = [];
  const type = typeOf(schema);
  if (schema.enum) out.push('not-an-option');
  if (type === 'integer' || type === 'number') {
    out.push('text', 1.5);
    if (schema.minimum !== undefined && schema.minimum > Number.MIN_SAFE_INTEGER) out.push(schema.minimum - 1);
    if (schema.maximum !== undefined && schema.maximum < Number.MAX_SAFE_INTEGER) out.push(schema.maximum + 1);
  } else if (type === 'string') {
    out.push(42);
    if (schema.minLength) out.push('');
  } else if (type === 'boolean') out.push('yes');
  else if (type === 'array') {
    out.push('not a list');
    if (schema.items) out.push([null]);
    if (schema.minItems) out.push([]);
  } else if (type === 'object') out.push('not an object', { notAField: 1 });
  if (schema.oneOf || schema.anyOf) out.push({ type: 'no-such-kind' }, 7);
  return out;
}

/** A flow with a trigger and one node of `type` with `params` (a source, so the flow has one). */
function flowWith(type: string, params: Record<string, unknown>, name?: string): FlowInput {
  return {
    format: 1,
    name: 'f',
    nodes: [
      { id: 'start', type: 'manual' },
      { id: 'src', type: 'inline-records', params: { records: [{ a: 1 }] } },
      { id: 'the-node', type, params, ...(name ? { name } : {}) },
    ],
    edges: [
      { source: 'start', target: 'src' },
      ...(nodeTypes.get(type)?.input ? [{ source: 'src', target: 'the-node' }] : []),
    ],
  };
}

/** Params that pass, from the schema: every required field given a value of its type. */
function validParams(schema: Schema): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of schema.required ?? []) {
    const prop = schema.properties?.[key] ?? {};
    const type = typeOf(prop);
    out[key] =
      key === 'url'
        ? 'https://example.test/x'
        : prop.enum
          ? prop.enum[0]
          : type === 'string'
            ? 'x'
            : type === 'array'
              ? []
              : 1;
  }
  return out;
}

const cases: { type: string; label: string; path: string[]; value: unknown; params: Record<string, unknown> }[] = [];
for (const def of nodeTypes.values()) {
  const schema = def.params.toJSONSchema({ io: 'input', unrepresentable: 'any' }) as Schema;
  const base = validParams(schema);
  const walk = (props: Record<string, Schema>, path: string[], parent: Schema) => {
    for (const [key, prop] of Object.entries(props)) {
      const at = [...path, key];
      for (const value of badValues(prop))
        cases.push({ type: def.type, label: def.label, path: at, value, params: base });
      if (parent.required?.includes(key))
        cases.push({ type: def.type, label: def.label, path: at, value: undefined, params: base });
      if (typeOf(prop) === 'object' && prop.properties) walk(prop.properties, at, prop);
    }
  };
  walk(schema.properties ?? {}, [], schema);
  cases.push({ type: def.type, label: def.label, path: ['notASetting'], value: 1, params: base });
}

function setAt(target: Record<string, unknown>, path: string[], value: unknown): Record<string, unknown> {
  const copy = structuredClone(target);
  let at: Record<string, unknown> = copy;
  path.slice(0, -1).forEach((key) => {
    if (typeof at[key] !== 'object' || at[key] === null) at[key] = {};
    at = at[key] as Record<string, unknown>;
  });
  const last = path.at(-1) as string;
  if (value === undefined) delete at[last];
  else at[last] = value;
  return copy;
}

describe('problems in plain language, for every issue of every node type', () => {
  it('has cases for every node type of the catalogue', () => {
    expect(new Set(cases.map((c) => c.type))).toEqual(new Set(nodeTypes.keys()));
    expect(cases.length).toBeGreaterThan(200);
  });

  it.each(cases.map((c) => [`${c.type} ${c.path.join('.')} = ${JSON.stringify(c.value)}`, c] as const))(
    '%s',
    (_name, c) => {
      for (const name of [undefined, 'Create in ERP']) {
        const flow = flowWith(c.type, setAt(c.params, c.path, c.value), name);
        const problems = validateFlow(flow).problems.filter((p) => p.nodeId === 'the-node');
        for (const problem of problems) {
          const text = describeProblem(flow, problem);
          expect(text.message, problem.message).not.toMatch(RAW);
          expect(text.subject.startsWith(name ?? c.label)).toBe(true);
          expect(text.message.startsWith(`${name ?? c.label}`)).toBe(true);
          expect(text.text.length).toBeGreaterThan(0);
          if (problem.path.includes('.params.') && problem.code === 'bad-parameter') {
            expect(text.field, problem.message).toBeTruthy();
          }
        }
      }
    },
  );
});

describe('describeProblem', () => {
  it('names the node and the field: "Create in ERP → URL: required"', () => {
    const flow = flowWith('http-write', { connection: 'erp' }, 'Create in ERP');
    const problem = validateFlow(flow).problems.find((p) => p.path === 'nodes[2].params.url') as Problem;
    expect(problem.message).toMatch(/nodes\[2\]\.params\.url: Invalid input/);
    expect(describeProblem(flow, problem).message).toBe('Create in ERP → URL: required');
  });

  it('labels nested fields and list items', () => {
    expect(paramLabel('http-write', ['retry', 'maxAttempts'])).toBe('Retry → Max attempts');
    expect(paramLabel('map', ['fields', 0, 'expression'])).toBe('Field 1 → Expression');
    expect(paramLabel('http-source', ['pagination', 'tokenPath'])).toBe('Pagination → Token path');
    expect(paramLabel('delay', ['intervalMs'])).toBe('Interval (ms)');
    expect(paramLabel('http-write', ['successStatuses', 1])).toBe('Success status 2');
  });

  it('says every problem of the flow as a whole in words, with node labels for ids', () => {
    const flow: FlowInput = {
      format: 1,
      name: 'f',
      nodes: [
        { id: 'a', type: 'batch', name: 'Chunk' },
        { id: 'b', type: 'batch' },
        { id: 'c', type: 'teleport' },
        { id: 'c', type: 'collect' },
      ],
      edges: [
        { source: 'a', target: 'b' },
        { source: 'b', target: 'a' },
        { source: 'ghost', target: 'a' },
        { source: 'a', sourcePort: 'sideways', target: 'b' },
        { source: 'a', target: 'b' },
      ],
    };
    const problems = validateFlow(flow).problems;
    const codes = new Set(problems.map((p) => p.code));
    for (const code of [
      'no-trigger',
      'no-source',
      'cycle',
      'unknown-node',
      'unknown-port',
      'duplicate-id',
      'unknown-node-type',
      'duplicate-edge',
    ])
      expect(codes).toContain(code);
    for (const problem of problems) {
      const text = describeProblem(flow, problem).message;
      expect(text, problem.message).not.toMatch(RAW);
      expect(text).not.toMatch(/"a"|"b"/);
    }
    const cycle = problems.find((p) => p.code === 'cycle') as Problem;
    expect(describeProblem(flow, cycle).message).toMatch(/Chunk → Batch → Chunk|Batch → Chunk → Batch/);
  });

  it('reads the flow-level fields and an unreadable document', () => {
    const flow = { format: 1, name: '', nodes: [{ id: 'x', type: 'batch', params: { size: 'big' } }] };
    for (const problem of validateFlow(flow).problems) {
      const text = describeProblem(flow, problem).message;
      expect(text).not.toMatch(RAW);
    }
    const name = validateFlow(flow).problems.find((p) => p.path === 'name') as Problem;
    expect(describeProblem(flow, name).message).toBe('Flow → Name: must not be empty');
  });

  it('keeps the reason of an expression and a schedule, without their paths', () => {
    const flow = flowWith('map', { fields: [{ name: 'x', expression: 'a +' }] }, 'Shape');
    const expression: Problem = {
      severity: 'error',
      code: 'bad-expression',
      path: 'nodes[2].params.fields[0].expression',
      message: 'nodes[2].params.fields[0].expression: expression `a +`: Unexpected end of expression at character 3',
      nodeId: 'the-node',
    };
    expect(describeProblem(flow, expression).message).toBe(
      'Shape → Field 1 → Expression: Unexpected end of expression (at character 3)',
    );
    const schedule: Problem = {
      severity: 'error',
      code: 'bad-schedule',
      path: 'nodes[2].params.cron',
      message: 'nodes[2].params.cron: cron: Invalid value for hour: 25',
      nodeId: 'the-node',
    };
    expect(describeProblem(flowWith('schedule', {}, 'Nightly'), schedule).message).toBe(
      'Nightly → Cron: Invalid value for hour: 25',
    );
  });
});

describe('plainIssue', () => {
  it.each([
    ['Invalid input: expected string, received undefined', 'required'],
    ['Invalid input: expected number, received string', 'must be a number, not text'],
    ['Invalid option: expected one of "a"|"b"', 'must be one of "a", "b"'],
    ['Too small: expected string to have >=1 characters', 'must not be empty'],
    ['Too small: expected number to be >=1', 'must be at least 1'],
    ['Too big: expected array to have <=3 items', 'must have at most 3 items'],
    ['must be at least 1', 'must be at least 1'],
  ])('%s → %s', (message, plain) => expect(plainIssue(message)).toBe(plain));

  it('words property names', () => {
    expect(humanise('intervalMs')).toBe('Interval (ms)');
    expect(humanise('url')).toBe('URL');
  });
});
