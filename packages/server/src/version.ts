import { readFileSync } from 'node:fs';

/** This package's version (read once from its package.json; light enough for the CLI to load). */
export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
