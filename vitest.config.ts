import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // Tests run the TypeScript sources of @jobs/shared, not its compiled output.
    conditions: ['development'],
  },
  ssr: { resolve: { conditions: ['development'] } },
  test: {
    include: ['shared/test/**/*.test.ts', 'services/*/test/**/*.test.ts', 'clients/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    // The system tests run the whole system under load, one file at a time: vitest.system.config.ts.
    exclude: [...configDefaults.exclude, 'test/system/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // 2 cores: a few files at once keeps Redis/Postgres busy without starving child processes.
    maxWorkers: 3,
    env: { APP_ENV: 'test', LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' },
    reporters: process.env.CI ? ['default', ['json', { outputFile: 'test-results/vitest.json' }]] : ['default'],
  },
});
