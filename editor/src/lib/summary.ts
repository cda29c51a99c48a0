import type { FlowNode, NodeTypeDefinition } from '@sluice/shared';
import { formatDelay } from './format';

/** The node's params with the type's defaults applied, or as written when they do not parse. */
export function effectiveParams(def: NodeTypeDefinition | undefined, params: Record<string, unknown>) {
  if (!def) return params;
  const parsed = def.params.safeParse(params);
  if (parsed.success && parsed.data && typeof parsed.data === 'object') return parsed.data as Record<string, unknown>;
  return params;
}

function text(value: unknown): string | null {
  if (typeof value === 'string' && value.trim() !== '') return value.trim();
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return null;
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

function target(params: Record<string, unknown>): string | null {
  const connection = text(params['connection']);
  const url = text(params['url']);
  if (connection && url) return `${connection} · ${url}`;
  return connection ?? url;
}

/** One line that says what a node is set up to do, e.g. "50 per batch"; null when there is nothing to say. */
export function paramSummary(node: Pick<FlowNode, 'type' | 'params'>, def?: NodeTypeDefinition): string | null {
  const p = effectiveParams(def, node.params ?? {});
  switch (node.type) {
    case 'batch': {
      const size = text(p['size']);
      return size ? `${size} per batch` : null;
    }
    case 'delay': {
      if (p['mode'] === 'rate') {
        const records = p['records'];
        const interval = p['intervalMs'];
        return typeof records === 'number' && typeof interval === 'number'
          ? `at most ${records.toLocaleString('en-US')} per ${formatDelay(interval)}`
          : null;
      }
      const ms = p['ms'];
      return typeof ms === 'number' && Number.isFinite(ms) ? `${formatDelay(ms)} between batches` : null;
    }
    case 'http-source':
      return target(p);
    case 'http-write': {
      const where = target(p);
      const method = text(p['method']);
      return where && method ? `${method} ${where}` : where;
    }
    case 'sql-source': {
      const connection = text(p['connection']);
      const from = text(p['table']) ?? (text(p['query']) ? 'a SELECT' : null);
      return connection && from ? `${connection} · ${from}` : (connection ?? from);
    }
    case 'sql-write': {
      const connection = text(p['connection']);
      const table = text(p['table']);
      const mode = text(p['mode']);
      const where = connection && table ? `${connection} · ${table}` : (connection ?? table);
      return where && mode ? `${mode} into ${where}` : where;
    }
    case 'sql-lookup': {
      const table = text(p['table']);
      const column = text(p['keyColumn']);
      const field = text(p['field']);
      return table && column && field ? `${field} → ${table}.${column}` : table;
    }
    case 'map': {
      const fields = Array.isArray(p['fields']) ? p['fields'].length : 0;
      return p['keep'] === 'none'
        ? `${plural(fields, 'field', 'fields')}, only these kept`
        : plural(fields, 'field', 'fields');
    }
    case 'filter':
    case 'branch':
      return text(p['condition']);
    case 'inline-records': {
      const records = Array.isArray(p['records']) ? p['records'].length : 0;
      return plural(records, 'record', 'records');
    }
    case 'split':
      return text(p['field']) ? `one record per element of ${text(p['field'])}` : null;
    case 'aggregate': {
      const by = text(p['groupBy']);
      const over = p['scope'] === 'run' ? 'the whole run' : 'each batch';
      return by ? `by ${by}, over ${over}` : `over ${over}`;
    }
    case 'dedupe':
      return `first of each ${text(p['key']) ?? 'record key'}`;
    case 'code':
      return 'JavaScript per record';
    case 'collect':
      return 'keeps records with the run';
    case 'error-branch':
      return 'receives failed records';
    case 'manual':
      return 'starts on Run';
    default:
      return null;
  }
}
