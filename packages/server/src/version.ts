import { readFileSync } from 'node:fs';
import { distPath } from './dist-paths.js';

/** This package's version (read once from its package.json; light enough for the CLI to load). */
export const VERSION: string = (
  JSON.parse(readFileSync(distPath('../package.json'), 'utf8')) as { version: string }
).version;
