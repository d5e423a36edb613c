import { configDefaults, defineConfig } from 'vitest/config';
import base from './vitest.config.js';

// System tests (test/system): the real services as separate processes, under load and faults.
// Each file starts up to 5 Node processes and keeps both cores of a CI machine busy for a while,
// so the files run one at a time, after the other tests (`npm test` runs both; `npm run test:system` only these).
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: ['test/system/**/*.test.ts'],
    // The root config excludes test/system from `npm test`; not here.
    exclude: configDefaults.exclude,
    fileParallelism: false,
    maxWorkers: 1,
    testTimeout: 240_000,
    hookTimeout: 120_000,
    reporters: process.env.CI ? ['default', ['json', { outputFile: 'test-results/vitest-system.json' }]] : ['default'],
  },
});
