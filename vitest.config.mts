import { defineConfig } from 'vitest/config';

// Integration tests share one Azurite child process started by the global setup; each test uses
// unique table and queue names, so files can run in parallel on the two cores we have.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    teardownTimeout: 30_000,
    pool: 'forks',
    maxWorkers: 2,
    reporters: process.env.CI ? ['default'] : ['default'],
    coverage: {
      provider: 'v8',
      include: ['src/engine/**/*.ts'],
      // index.ts only re-exports; v8 reports it as uncovered because re-exports run no statements of their own.
      exclude: ['src/engine/index.ts'],
      reporter: ['text-summary', 'text'],
      thresholds: { lines: 95, branches: 95, functions: 95, statements: 95 },
    },
  },
});
