// The dashboard is built to web/dist/ and embedded in netledgerd, which serves index.html at /
// and the hashed files at /assets/. Routing is by URL hash, so the server needs no catch-all.
//
// Development: `NETLEDGER_URL=http://127.0.0.1:PORT npm run dev` proxies /v1 to a running
// netledgerd, so the app talks to the real server from the Vite dev server.
import { defineConfig } from 'vite';

const target = process.env.NETLEDGER_URL || 'http://127.0.0.1:8080';

export default defineConfig({
  base: '/',
  // Preact's automatic JSX runtime (no React, no compat layer).
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    emptyOutDir: true,
    target: 'es2022',
    // One small bundle: no source maps shipped in the binary, no inlined assets in the JS.
    sourcemap: false,
    assetsInlineLimit: 0,
  },
  // Dev server: the dependencies are few and known, so list them rather than let the scanner
  // (which does not read the JSX options above) guess at a React runtime.
  optimizeDeps: {
    noDiscovery: true,
    include: ['preact', 'preact/hooks', 'preact/jsx-runtime', 'preact/jsx-dev-runtime', 'uplot'],
  },
  server: {
    host: '127.0.0.1',
    proxy: { '/v1': { target, changeOrigin: false } },
  },
});
