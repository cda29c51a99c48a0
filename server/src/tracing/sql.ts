import {
  ATTR_DB_COLLECTION_NAME,
  ATTR_DB_NAMESPACE,
  ATTR_DB_OPERATION_BATCH_SIZE,
  ATTR_DB_OPERATION_NAME,
  ATTR_DB_SYSTEM_NAME,
  ATTR_ERROR_TYPE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  DB_SYSTEM_NAME_VALUE_MYSQL,
  DB_SYSTEM_NAME_VALUE_POSTGRESQL,
} from '@opentelemetry/semantic-conventions';
import { type RequestOrigin, SqlFailure, type SqlPort } from '@sluice/engine';
import type { SqlConnectionConfig } from '../connectors/sql/config.js';
import type { RequestTracer } from './http.js';
import { type Attributes, SpanKind, STATUS_ERROR, startSpan } from './spans.js';

/** Rows a read or lookup answered (OpenTelemetry's `db.response.returned_rows`, still in development there). */
const RETURNED_ROWS = 'db.response.returned_rows';
/** Rows of a write the database refused one by one (the others committed). */
const REFUSED_ROWS = 'sluice.sql.refused_rows';

/** What a span says of the database a call goes to: its system, server and database. */
export type SqlDescribe = (
  connection: string,
) => Pick<SqlConnectionConfig, 'kind' | 'host' | 'port' | 'database'> | undefined;

/**
 * Wraps the SQL port so that each call a node makes is a CLIENT span (OpenTelemetry's database
 * conventions: `db.system.name`, `db.namespace`, `db.collection.name`, `db.operation.name`,
 * `db.operation.batch.size`, `server.address`, `server.port`, `error.type`), named
 * `<operation> <table>`, child of the span of the run, batch and node its `origin` names, as an
 * HTTP request's is. A read's or lookup's span says how many rows came back; a write's, how many
 * rows it carried and how many the database refused. Statements are not kept: Sluice writes them
 * from the node's settings, and the values are bound, never in the text.
 */
export function tracedSqlPort(sql: SqlPort, tracing: RequestTracer, describe: SqlDescribe): SqlPort {
  const traced = async <T>(
    connection: string,
    operation: 'SELECT' | 'INSERT' | 'UPDATE',
    table: string | undefined,
    origin: RequestOrigin | undefined,
    extra: Attributes,
    call: () => Promise<T>,
    settled: (value: T, attributes: Attributes) => void,
  ): Promise<T> => {
    const attributes: Attributes = { [ATTR_DB_OPERATION_NAME]: operation, ...extra };
    const db = describe(connection);
    if (db) {
      attributes[ATTR_DB_SYSTEM_NAME] =
        db.kind === 'postgres' ? DB_SYSTEM_NAME_VALUE_POSTGRESQL : DB_SYSTEM_NAME_VALUE_MYSQL;
      attributes[ATTR_DB_NAMESPACE] = db.database;
      attributes[ATTR_SERVER_ADDRESS] = db.host;
      attributes[ATTR_SERVER_PORT] = db.port;
    }
    if (table) attributes[ATTR_DB_COLLECTION_NAME] = table;
    attributes['sluice.connection'] = connection;
    const span = startSpan(
      table ? `${operation} ${table}` : operation,
      SpanKind.CLIENT,
      tracing.parentOf(origin),
      attributes,
    );
    try {
      const value = await call();
      settled(value, attributes);
      return value;
    } catch (err) {
      attributes[ATTR_ERROR_TYPE] = err instanceof SqlFailure ? err.code : ((err as Error).name ?? '_OTHER');
      span.status = { code: STATUS_ERROR, message: (err as Error).message };
      throw err;
    } finally {
      tracing.end(span);
    }
  };
  /** A read or a lookup: a SELECT, its span saying how many rows came back. */
  const select = (
    connection: string,
    table: string | undefined,
    origin: RequestOrigin | undefined,
    call: () => Promise<Record<string, unknown>[]>,
  ) =>
    traced(connection, 'SELECT', table, origin, {}, call, (rows, attributes) => {
      attributes[RETURNED_ROWS] = rows.length;
    });
  return {
    read: (connection, request, signal, origin) =>
      select(connection, request.table, origin, () => sql.read(connection, request, signal, origin)),
    lookup: (connection, request, signal, origin) =>
      select(connection, request.table, origin, () => sql.lookup(connection, request, signal, origin)),
    write: (connection, request, signal, origin) =>
      traced(
        connection,
        request.mode === 'update' ? 'UPDATE' : 'INSERT',
        request.table,
        origin,
        // a batch size is said of two rows or more, as the conventions ask
        request.rows.length > 1
          ? { [ATTR_DB_OPERATION_BATCH_SIZE]: request.rows.length, 'sluice.sql.mode': request.mode }
          : { 'sluice.sql.mode': request.mode },
        () => sql.write(connection, request, signal, origin),
        (results, attributes) => {
          const refused = results.filter((r) => !r.ok).length;
          attributes[REFUSED_ROWS] = refused;
        },
      ),
  };
}
