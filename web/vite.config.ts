// The operator's console: built into dist/console and served by the API app at /console/
// (apps/api/src/console/console-assets.ts). CONSOLE_OUT_DIR builds elsewhere (the e2e tests).
import { resolve } from 'node:path';
import { defineConfig } from 'vite';

export default defineConfig({
  root: __dirname,
  base: '/console/',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: process.env.CONSOLE_OUT_DIR ?? resolve(__dirname, '../dist/console'),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
  },
});
