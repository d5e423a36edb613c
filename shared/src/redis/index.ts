// @jobs/shared/redis: connections, key namespaces and the small Redis primitives the services share.
export * from './connection.js';
export * from './namespace.js';
export * from './connection-errors.js';
export * from './token-lock.js';
export * from './lua-script.js';
export * from './redis-url.js';
