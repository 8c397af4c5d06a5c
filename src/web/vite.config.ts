import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vite'

/**
 * The web UI is built once at install time (`npm ci` runs `prepare`) into dist/web and served by
 * the node at `/`; nothing is fetched from a CDN at run time. esbuild compiles the JSX for Preact.
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  logLevel: 'warn',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: fileURLToPath(new URL('../../dist/web', import.meta.url)),
    emptyOutDir: true,
    sourcemap: true,
    target: 'es2022',
  },
})
