export { parseSqlUrl, type SqlConnectionConfig, type SqlKind, sqlKindOf } from './config.js';
export { SqlConnections } from './connections.js';
