import { fileURLToPath } from 'node:url';

/** Set (true) by esbuild's `define` in the bundle that `npm run build` makes (scripts/bundle.mjs). */
declare const GALLEY_BUNDLED: boolean | undefined;

/**
 * The package's `dist/` directory, where the build leaves what the server reads besides its code
 * (the migrations in `store/sql/`, the PGlite template, the initdb helper): this module's own
 * directory, or, in the bundle (`dist/bundle/`), the one above it.
 */
const DIST = new URL(typeof GALLEY_BUNDLED !== 'undefined' && GALLEY_BUNDLED ? '../' : './', import.meta.url);

/** The path of `relative` (e.g. `store/sql/`) in the package's `dist/` directory. */
export function distPath(relative: string): string {
  return fileURLToPath(new URL(relative, DIST));
}
