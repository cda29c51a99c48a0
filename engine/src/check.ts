import { type Problem, type ValidationResult, validateFlow } from '@sluice/shared';
import { checkExpression } from './expressions.js';

const EXPRESSION_PARAMS: Record<string, (params: Record<string, unknown>) => [string, string][]> = {
  map: (p) => ((p.fields as { expression: string }[]) ?? []).map((f, i) => [`fields[${i}].expression`, f.expression]),
  filter: (p) => [['condition', String(p.condition)]],
  branch: (p) => [['condition', String(p.condition)]],
  'changed-only': (p) => (p.content ? [['content', String(p.content)]] : []),
  dedupe: (p) => (p.key ? [['key', String(p.key)]] : []),
  aggregate: (p) => [
    ...(p.groupBy ? ([['groupBy', String(p.groupBy)]] as [string, string][]) : []),
    ...((p.fields as { value?: string }[]) ?? []).flatMap((f, i): [string, string][] =>
      f.value ? [[`fields[${i}].value`, f.value]] : [],
    ),
  ],
};

/**
 * Validates a flow as `validateFlow` does, and also compiles every expression, so a syntax error is
 * reported before a run rather than on every record.
 */
export function checkFlowForRun(input: unknown): ValidationResult {
  const result = validateFlow(input);
  if (!result.flow) return result;
  const problems: Problem[] = [...result.problems];
  result.flow.nodes.forEach((node, i) => {
    const pick = EXPRESSION_PARAMS[node.type];
    const bad = problems.some((p) => p.nodeId === node.id && p.code === 'bad-parameter');
    if (!pick || bad) return;
    for (const [field, source] of pick(node.params)) {
      const message = checkExpression(source);
      if (!message) continue;
      const path = `nodes[${i}].params.${field}`;
      problems.push({
        severity: 'error',
        code: 'bad-expression',
        path,
        message: `${path}: ${message}`,
        nodeId: node.id,
      });
    }
  });
  return { ...result, ok: !problems.some((p) => p.severity === 'error'), problems };
}
