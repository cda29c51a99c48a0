export * from './alerts.js';
export * from './audit.js';
export * from './client.js';
export * from './contract.js';
export * from './http-status.js';
export * from './schemas.js';
