import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // One worker per core, at least two (vitest's default is one fewer than the cores): the
    // integration files spend most of their time waiting on the moto server, a process of its own.
    // On 2 cores this took the suite from 8.3 to 5.1 minutes (2026-11-30).
    maxWorkers: Math.max(2, availableParallelism()),
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/core/**/*.test.ts', 'test/bench/**/*.test.ts', 'test/build/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          include: [
            'test/aws/**/*.test.ts',
            'test/cli/**/*.test.ts',
            'test/handlers/**/*.test.ts',
            'test/deploy/**/*.test.ts',
          ],
          // Powertools: no JSON log lines or EMF metrics on the test output (tests read their own logs).
          env: { POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true' },
          // One moto server for the whole run; every test works in an account of its own, so files
          // run in parallel without resetting each other's state.
          globalSetup: ['test/harness/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
