import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: 'forks',
    reporters: ['default', './test/summary-reporter.ts'],
    projects: [
      // Everything that needs no shared registry: pure unit tests, and files that start their own
      // DynamoDB Local or local registry (test/handlers, test/events/local, test/client/registry, test/console).
      { extends: true, test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: ['test/integration/**'] } },
      // One local registry (DynamoDB Local + S3 stand-in) is started for all integration files.
      { extends: true, test: { name: 'integration', include: ['test/integration/**/*.test.ts'], globalSetup: ['test/integration/global-setup.ts'] } },
    ],
  },
});
