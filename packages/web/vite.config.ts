import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/**
 * The UI is served by the Galley server at `/`; in `vite dev` the API is proxied to it. The API's
 * types come from the server's schemas (`@galley/server/api`, its TypeScript source, as in
 * tsconfig.json's `paths`); the UI imports types from it, and plain constants (the sortable run
 * columns) that the bundle takes alone: the server's package.json says `"sideEffects": false`, so
 * no schema (nor TypeBox) is bundled with them.
 */
export default defineConfig({
  plugins: [react()],
  resolve: {
    alias: {
      '@galley/server/api': fileURLToPath(new URL('../server/src/api/schemas/index.ts', import.meta.url)),
    },
  },
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true },
  server: { proxy: { '/api': 'http://127.0.0.1:1424' } },
});
