import react from '@vitejs/plugin-react'
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vite'
import { VitePWA } from 'vite-plugin-pwa'

// What the console's code is, as one hash of src/ (tests aside): the persisted query cache's buster,
// so a console built from other code never reads answers a previous build cached.
function sourceHash(dir = fileURLToPath(new URL('./src', import.meta.url))): string {
  const hash = createHash('sha256')
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(d, entry.name)
      if (entry.isDirectory()) walk(path)
      else if (!/\.test\.tsx?$/.test(entry.name)) hash.update(entry.name).update(readFileSync(path))
    }
  }
  walk(dir)
  return hash.digest('hex').slice(0, 16)
}

// The shell (router, query cache, i18n, API client, inbox, lists) is the first load; record forms
// (RJSF + ajv) load with the record pages (React.lazy), so the first load stays small.
// The service worker (Workbox through vite-plugin-pwa) precaches the shell and every lazy chunk, so
// every page opens with no network; config.json and the local stack's demo-user list are network
// first (3 s), then the last copy. API answers are never in it (the query cache persists those,
// src/lib/persist.ts); it is registered by src/pwa.ts (no inline script: the CSP allows none).
export default defineConfig({
  plugins: [
    react(),
    VitePWA({
      registerType: 'autoUpdate',
      injectRegister: null,
      includeManifestIcons: false, // the glob below has them (and the manifest is always in)
      manifest: {
        id: '/',
        name: 'After-sales console',
        short_name: 'After-sales',
        description: 'Work orders, dispatch, field work and dashboards of the after-sales service platform.',
        lang: 'en',
        start_url: '/',
        scope: '/',
        display: 'standalone',
        theme_color: '#0b57d0',
        background_color: '#ffffff',
        icons: [
          { src: '/icons/icon-192.png', sizes: '192x192', type: 'image/png', purpose: 'any' },
          { src: '/icons/icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'any' },
          { src: '/icons/maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
        ],
      },
      workbox: {
        globPatterns: ['**/*.{js,css,html,png}'],
        // the dashboards' chunk (Vega) is ~850 KB: room for it to grow without dropping out of the precache
        maximumFileSizeToCacheInBytes: 4 * 1024 * 1024,
        navigateFallback: 'index.html',
        navigateFallbackDenylist: [/^\/local-mail(\/|\?|$)/, /^\/local-users\.json$/, /^\/config\.json$/],
        cleanupOutdatedCaches: true,
        runtimeCaching: [
          {
            urlPattern: ({ url, sameOrigin }) => sameOrigin && (url.pathname === '/config.json' || url.pathname === '/local-users.json'),
            handler: 'NetworkFirst',
            options: { cacheName: 'aftersales-config', networkTimeoutSeconds: 3, cacheableResponse: { statuses: [200] } },
          },
        ],
      },
    }),
  ],
  define: { __CONSOLE_BUILD__: JSON.stringify(sourceHash()) },
  build: { outDir: 'dist', sourcemap: false, chunkSizeWarningLimit: 900 },
  test: { environment: 'jsdom', include: ['src/**/*.test.ts', 'src/**/*.test.tsx'] },
})
