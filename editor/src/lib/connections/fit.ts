import type { ConnectionView } from '@sluice/shared';

/**
 * The built-in connections a node type can use: an entity source reads the unified maintenance API
 * (the maintenance sandbox), an entity write writes the unified ERP API (the ERP sandbox); HTTP nodes
 * talk to any system. Stored connections fit every node that takes a connection of their kind: a
 * database (a postgres:// or mysql:// URL) fits the SQL nodes only, an HTTP system every other node;
 * whether one speaks the unified API is for its owner to say.
 */
const BUILT_IN_FOR: Record<string, (name: string) => boolean> = {
  'entity-source': (name) => name.startsWith('maintenance'),
  'entity-write': (name) => name.startsWith('erp'),
};

const isDatabase = (c: ConnectionView) => /^(postgres(ql)?|mysql):\/\//i.test(c.baseUrl);

export interface ConnectionChoices {
  builtIn: ConnectionView[];
  stored: ConnectionView[];
}

/** The connections offered for a node of this type, built-in first, each group by name. */
export function connectionsFor(nodeType: string, all: readonly ConnectionView[]): ConnectionChoices {
  const fits = BUILT_IN_FOR[nodeType] ?? (() => true);
  const byName = (a: ConnectionView, b: ConnectionView) => a.name.localeCompare(b.name);
  const sql = nodeType.startsWith('sql-');
  return {
    builtIn: sql ? [] : all.filter((c) => c.builtIn && fits(c.name)).sort(byName),
    stored: all.filter((c) => !c.builtIn && isDatabase(c) === sql).sort(byName),
  };
}
