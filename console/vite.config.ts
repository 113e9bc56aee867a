import react from '@vitejs/plugin-react'
import { defineConfig } from 'vite'

// The shell (router, query cache, i18n, API client, inbox, lists) is the first load; record forms
// (RJSF + ajv) load with the record pages (React.lazy), so the first load stays small.
export default defineConfig({
  plugins: [react()],
  build: { outDir: 'dist', sourcemap: false, chunkSizeWarningLimit: 900 },
  test: { environment: 'jsdom', include: ['src/**/*.test.ts', 'src/**/*.test.tsx'] },
})
