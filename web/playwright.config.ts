import { defineConfig } from '@playwright/test';

// The dApp's browser tests: Debian's chromium (Playwright's own browser
// download is not reachable from these machines), headless, against the
// production build served by `vite preview`, a real dev node, a real worker
// serving the real models and Alice's verifier (tests/chain.ts starts them).
const PORT = Number(process.env.AGORA_WEB_PORT ?? 4173);

export default defineConfig({
  testDir: 'tests',
  timeout: 8 * 60_000,
  expect: { timeout: 120_000 },
  workers: 1,
  reporter: [['list']],
  globalSetup: './tests/chain.ts',
  use: {
    baseURL: `http://127.0.0.1:${PORT}`,
    headless: true,
    viewport: { width: 1280, height: 900 },
    launchOptions: {
      executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    },
    trace: 'retain-on-failure',
  },
  webServer: {
    // `npm test` builds dist/ first (type checks included).
    command: `npx vite preview --port ${PORT} --strictPort`,
    url: `http://127.0.0.1:${PORT}`,
    timeout: 120_000,
    reuseExistingServer: false,
  },
});
