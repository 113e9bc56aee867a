import { QueryClient } from '@tanstack/react-query'
import { PersistQueryClientProvider } from '@tanstack/react-query-persist-client'
import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { BrowserRouter } from 'react-router'
import App from './App'
import { loadConfig } from './lib/config'
import i18n from './lib/i18n'
import { afterRestore, forgetOnSignOut, MAX_AGE, usePersistedQueries } from './lib/persist'
import { registerServiceWorker } from './pwa'
import './styles.css'

// offlineFirst: with no network a query shows what the device kept (lib/persist.ts) and waits, instead
// of failing; kept in memory as long as on the device (gcTime = the persisted cache's maxAge)
const queries = new QueryClient({
  defaultOptions: { queries: { retry: 1, staleTime: 5_000, refetchOnWindowFocus: false, networkMode: 'offlineFirst', gcTime: MAX_AGE } },
})
// the API answers definitions' labels in the console's language: a new language refetches them
i18n.on('languageChanged', () => void queries.invalidateQueries())
forgetOnSignOut(queries)
registerServiceWorker()

/** The query cache restored from (and saved to) the signed-in user's own entry on the device. */
function Root() {
  const { owner, persistOptions } = usePersistedQueries(queries)
  return (
    <PersistQueryClientProvider key={owner} client={queries} persistOptions={persistOptions} onSuccess={() => afterRestore(queries)}>
      <App />
    </PersistQueryClientProvider>
  )
}

void loadConfig().then(() => {
  createRoot(document.getElementById('root')!).render(
    <StrictMode>
      <BrowserRouter>
        <Root />
      </BrowserRouter>
    </StrictMode>,
  )
})
