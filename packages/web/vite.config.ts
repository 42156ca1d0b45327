import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/** The UI is served by the Galley server at `/`; in `vite dev` the API is proxied to it. */
export default defineConfig({
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true },
  server: { proxy: { '/api': 'http://127.0.0.1:1424' } },
});
