import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
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
