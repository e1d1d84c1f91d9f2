import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

// Tests run against package sources (the `@tollgate/source` export condition), so no
// build is needed first. `ssr.resolve.conditions` is what reaches vitest's node tests.
export default defineConfig({
  // Not vite's `module` condition: workers pass these conditions to Node, and packages such as
  // @opentelemetry/api answer `module` with an ESM build only a bundler can load.
  ssr: {
    resolve: {
      conditions: ['@tollgate/source', ...defaultServerConditions.filter((c) => c !== 'module')],
    },
  },
  oxc: { decorator: { legacy: true, emitDecoratorMetadata: true } },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'examples/**/*.test.ts', 'bench/src/**/*.test.ts'],
    testTimeout: 20_000,
    // Suites that need a service this machine lacks skip, and the run ends naming them.
    globalSetup: ['packages/limits/src/test-support/skippedSuites.ts'],
  },
});
