import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const REPO_ROOT = fileURLToPath(new URL('../../../../../', import.meta.url));

/**
 * The built galley-executor (`packages/mesos/dist/executor/main.js`). Tests spawn the built
 * code; when it is missing or older than its sources (a plain `vitest run` without `npm test`'s
 * build), the package is built first.
 */
export function builtExecutor(): string {
  const main = join(REPO_ROOT, 'packages/mesos/dist/executor/main.js');
  const sources = join(REPO_ROOT, 'packages/mesos/src/executor');
  const newest = Math.max(...readdirSync(sources).map((file) => statSync(join(sources, file)).mtimeMs));
  if (!existsSync(main) || statSync(main).mtimeMs < newest) {
    try {
      execFileSync(
        process.execPath,
        [join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '-b', 'packages/mesos'],
        {
          cwd: REPO_ROOT,
          stdio: 'pipe',
        },
      );
    } catch (error) {
      // Type errors elsewhere still emit JavaScript; only a missing file is fatal.
      if (!existsSync(main)) throw error;
    }
  }
  return main;
}
