import { defineConfig } from 'vite';

// The dApp is static: `npm run build` writes dist/, which any web server can
// serve; the page talks to the node's WebSocket and the providers' HTTP APIs.
export default defineConfig({
  build: { target: 'es2022', chunkSizeWarningLimit: 2048 },
  server: { host: '127.0.0.1' },
  preview: { host: '127.0.0.1' },
});
