import type Database from 'better-sqlite3';

/**
 * A function that prepares each distinct SQL text once and hands back the same statement after
 * (preparing costs more than running): what the repositories use for their queries.
 */
export function preparedStatements(client: Database.Database): (text: string) => Database.Statement {
  const statements = new Map<string, Database.Statement>();
  return (text) => {
    let stmt = statements.get(text);
    if (!stmt) {
      stmt = client.prepare(text);
      statements.set(text, stmt);
    }
    return stmt;
  };
}
