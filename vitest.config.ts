import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = fileURLToPath(new URL('.', import.meta.url));

/**
 * One test run for the whole repository. Tests import the workspace packages from their
 * TypeScript sources (the aliases below); anything that spawns a real process (the server, the
 * CLI, galley-executor) runs the built `dist/`, which `npm test` builds first.
 */
export default defineConfig({
  resolve: {
    alias: [
      { find: /^@galley\/mesos\/testing$/, replacement: `${root}packages/mesos/src/testing/index.ts` },
      { find: /^@galley\/server\/api$/, replacement: `${root}packages/server/src/api/schemas/index.ts` },
      { find: /^@galley\/mesos\/extras$/, replacement: `${root}packages/mesos/src/extras/index.ts` },
      { find: /^@galley\/(testkit|mesos|core|server)$/, replacement: `${root}packages/$1/src/index.ts` },
    ],
  },
  test: {
    include: ['packages/*/test/**/*.test.{ts,tsx}'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
