export * from './sleep-until.js';
export * from './redis.js';
export * from './log-capture.js';
export * from './child.js';
export * from './worker-child.js';
export * from './tcp-proxy.js';
