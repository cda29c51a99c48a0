import { type Problem, validateFlow } from '@sluice/shared';
import { describe, expect, it } from 'vitest';
import {
  checkValue,
  codeLanguage,
  fieldKind,
  humanise,
  initialValue,
  isCode,
  isExpression,
  type JsonSchema,
  nodeProblems,
  paramSchema,
  parsePath,
  placeUnknownKeys,
  problemsOwn,
  problemsUnder,
} from './schema';

const prop = (type: string, name: string): JsonSchema => {
  const schema = paramSchema(type);
  const p = schema?.properties?.[name];
  if (!p) throw new Error(`${type} has no param ${name}`);
  return p;
};

describe('paramSchema', () => {
  it('is the JSON Schema of the type’s params', () => {
    const batch = paramSchema('batch');
    expect(batch?.properties?.['size']).toMatchObject({
      type: 'integer',
      minimum: 1,
      maximum: 100_000,
      default: 50,
      description: 'Records per batch.',
    });
    expect(paramSchema('http-source')?.required).toEqual(['url']);
    expect(paramSchema('no-such-type')).toBeNull();
  });

  it('picks an input for every param of the catalogue', () => {
    expect(fieldKind(prop('batch', 'size'))).toBe('number');
    expect(fieldKind(prop('delay', 'mode'))).toBe('enum');
    expect(fieldKind(prop('schedule', 'cron'))).toBe('string');
    expect(fieldKind(prop('map', 'fields'))).toBe('object-list');
    expect(fieldKind(prop('map', 'remove'))).toBe('string-list');
    expect(fieldKind(prop('http-write', 'retry'))).toBe('object');
    expect(fieldKind(prop('http-source', 'pagination'))).toBe('union');
    expect(fieldKind(prop('http-source', 'query'))).toBe('string-map');
    expect(fieldKind(prop('inline-records', 'records'))).toBe('json');
    expect(fieldKind({ type: 'boolean' })).toBe('boolean');
  });

  it('knows expression fields by their help text', () => {
    expect(isExpression(prop('filter', 'condition'))).toBe(true);
    expect(isExpression(prop('branch', 'condition'))).toBe(true);
    expect(isExpression(prop('map', 'fields').items?.properties?.['expression'] ?? {})).toBe(true);
    expect(isExpression(prop('map', 'fields').items?.properties?.['name'] ?? {})).toBe(false);
    expect(isExpression(prop('aggregate', 'groupBy'))).toBe(true);
    expect(isExpression(prop('dedupe', 'key'))).toBe(true);
    expect(isExpression(prop('code', 'code'))).toBe(false);
  });

  it('knows the fields that are code, and their language: a code node’s JavaScript, an SQL source’s SELECT', () => {
    expect(isCode(prop('code', 'code'))).toBe(true);
    expect(codeLanguage(prop('code', 'code'))).toBe('javascript');
    expect(codeLanguage(prop('sql-source', 'query'))).toBe('sql');
    expect(isCode(prop('filter', 'condition'))).toBe(false);
    expect(codeLanguage(prop('sql-source', 'table'))).toBeUndefined();
  });
});

describe('humanise', () => {
  it('turns property names into labels', () => {
    expect(humanise('size')).toBe('Size');
    expect(humanise('intervalMs')).toBe('Interval (ms)');
    expect(humanise('ms')).toBe('Milliseconds');
    expect(humanise('catchUpLimit')).toBe('Catch up limit');
    expect(humanise('url')).toBe('URL');
    expect(humanise('keyField')).toBe('Key field');
  });
});

describe('checkValue', () => {
  it('checks bounds, whole numbers and required values with the server’s words', () => {
    const size = prop('batch', 'size');
    expect(checkValue(size, 0, false)).toEqual(['must be at least 1']);
    expect(checkValue(size, 200_000, false)).toEqual(['must be at most 100,000']);
    expect(checkValue(size, 2.5, false)).toEqual(['must be a whole number']);
    expect(checkValue(size, 50, false)).toEqual([]);
    expect(checkValue(size, undefined, false)).toEqual([]);
    expect(checkValue(prop('http-source', 'url'), undefined, true)).toEqual(['required']);
    expect(checkValue(prop('http-source', 'url'), '', true)).toEqual(['must not be empty']);
    expect(checkValue(prop('delay', 'mode'), 'slow', false)).toEqual(['must be one of "fixed", "rate"']);
    expect(checkValue(prop('inline-records', 'records'), {}, false)).toEqual(['must be a list, not an object']);
  });

  it('gives a list item its defaults and empty required values', () => {
    expect(initialValue(prop('map', 'fields').items ?? {})).toEqual({ name: '', expression: '' });
  });
});

describe('problems', () => {
  it('parses rendered paths', () => {
    expect(parsePath('nodes[3].params.fields[0].expression')).toEqual([
      'nodes',
      3,
      'params',
      'fields',
      0,
      'expression',
    ]);
    expect(parsePath('edges')).toEqual(['edges']);
  });

  it('sorts the problems of the validator onto the node’s fields', () => {
    const { problems } = validateFlow({
      format: 1,
      name: 'x',
      nodes: [
        { id: 'start', type: 'manual' },
        { id: 'source', type: 'generate', params: { count: 10 } },
        { id: 'b', type: 'batch', params: { size: 0 } },
        { id: 'm', type: 'map', params: { fields: [{ name: 'a', expression: '' }] } },
      ],
      edges: [
        { source: 'start', target: 'source' },
        { source: 'source', target: 'b' },
        { source: 'b', target: 'm' },
      ],
    });
    const batch = nodeProblems(problems, 'b', 2);
    expect(batch.params).toEqual([{ severity: 'error', path: ['size'], message: 'must be at least 1' }]);
    const map = nodeProblems(problems, 'm', 3);
    expect(problemsUnder(problemsUnder(problemsUnder(map.params, 'fields'), 0), 'expression')).toEqual([
      { severity: 'error', path: [], message: 'must not be empty' },
    ]);
    expect(nodeProblems(problems, 'start', 0)).toEqual({ params: [], name: [], node: [] });
  });

  it('matches problems without a node id by index, and keeps node-wide ones apart', () => {
    const problems: Problem[] = [
      { severity: 'error', code: 'bad-shape', path: 'nodes[1].name', message: 'nodes[1].name: too long' },
      { severity: 'warning', code: 'unreachable', path: 'nodes[1]', message: 'nodes[1]: not reached', nodeId: 'x' },
      { severity: 'error', code: 'bad-shape', path: 'nodes[2].name', message: 'nodes[2].name: too long' },
    ];
    const mine = nodeProblems(problems, 'x', 1);
    expect(mine.name).toEqual([{ severity: 'error', path: [], message: 'too long' }]);
    expect(mine.node).toEqual([
      { severity: 'warning', path: [], message: 'no trigger leads here, so it will never receive records' },
    ]);
  });

  it('puts each unknown key under its own name', () => {
    const { problems } = validateFlow({
      format: 1,
      name: 'x',
      nodes: [{ id: 'b', type: 'batch', params: { size: 5, extra: 1, 'odd "key"': 2 } }],
    });
    const params = nodeProblems(problems, 'b', 0).params;
    expect(placeUnknownKeys(params, ['extra', 'odd "key"'])).toEqual([
      { severity: 'error', path: ['extra'], message: 'not a setting of this node type' },
      { severity: 'error', path: ['odd "key"'], message: 'not a setting of this node type' },
    ]);
    expect(placeUnknownKeys(params, [])).toEqual(params);
  });

  it('lets a container show what its parts do not', () => {
    const list = [
      { severity: 'error' as const, path: [], message: 'whole' },
      { severity: 'error' as const, path: ['a'], message: 'a' },
      { severity: 'error' as const, path: ['zzz'], message: 'unknown part' },
    ];
    expect(problemsOwn(list, ['a']).map((p) => p.message)).toEqual(['whole', 'unknown part']);
  });
});
