// The query cache kept on the device (IndexedDB), per signed-in user, so the pages someone opened
// open again with no network (the service worker has the code, this has the answers). One entry per
// user: `aftersales.queries.<API URL>.<user id>` in the `aftersales-queries` database. Another user
// signing in on the same device starts from their own entry only (the memory cache is emptied first);
// signOut() drops the user's entry. Kept 7 days, and thrown away when the console's code changes (the
// buster is a hash of src/). Only successful queries are kept — not the local stack's demo-user list
// (it carries tokens), not the OIDC callback's result, not presigned file URLs (they live 5 minutes),
// not a query with `meta: { persist: false }` (the offline queue's own IndexedDB reads) — and no
// mutation: writes made offline are the offline queue's business.
import { createAsyncStoragePersister } from '@tanstack/query-async-storage-persister'
import { defaultShouldDehydrateQuery, type Query, type QueryClient } from '@tanstack/react-query'
import type { PersistedClient, PersistQueryClientOptions, Persister } from '@tanstack/react-query-persist-client'
import { createStore, del, get, keys, set, type UseStore } from 'idb-keyval'
import { useMemo } from 'react'
import { useLocation } from 'react-router'
import { onSignOut, session, type Session } from './auth'
import { config } from './config'

declare const __CONSOLE_BUILD__: string | undefined

export const MAX_AGE = 7 * 24 * 60 * 60 * 1000
export const BUSTER = typeof __CONSOLE_BUILD__ === 'string' ? __CONSOLE_BUILD__ : 'dev'
const PREFIX = 'aftersales.queries.'
const NOT_KEPT = new Set(['local-users', 'oidc-callback', 'file'])

let database: UseStore | null = null
const db = () => (database ??= createStore('aftersales-queries', 'clients'))

/** Where a user's cached answers are kept (no session: nowhere). */
export function persistKey(who: Session | null = session()): string | null {
  return who ? `${PREFIX}${config().apiUrl}.${who.user}` : null
}

export function shouldPersistQuery(query: Query): boolean {
  return defaultShouldDehydrateQuery(query) && !NOT_KEPT.has(String(query.queryKey[0])) && query.meta?.persist !== false
}

/** Drop a user's cached answers from the device (signOut() does it for the user signing out). */
export async function dropPersistedQueries(who: Session): Promise<void> {
  await del(persistKey(who)!, db())
}

/** Once, at start: signing out empties the memory cache and drops that user's entry. */
export function forgetOnSignOut(client: QueryClient): () => void {
  return onSignOut((was) => {
    client.clear()
    void dropPersistedQueries(was).catch(() => undefined)
  })
}

/** Other users' entries that can no longer be restored (too old, another build): removed. */
async function sweep(keep: string): Promise<void> {
  for (const key of await keys(db())) {
    if (typeof key !== 'string' || !key.startsWith(PREFIX) || key === keep) continue
    try {
      const kept = JSON.parse((await get<string>(key, db())) ?? 'null') as PersistedClient | null
      if (kept && Date.now() - kept.timestamp <= MAX_AGE && kept.buster === BUSTER) continue
    } catch {
      // unreadable: removed
    }
    await del(key, db())
  }
}

function persister(owner: string | null, client: QueryClient): Persister {
  if (!owner) {
    return { persistClient: () => undefined, restoreClient: () => { client.clear(); return undefined }, removeClient: () => undefined }
  }
  const stored = createAsyncStoragePersister({
    key: owner,
    throttleTime: 1000,
    storage: {
      getItem: async (key) => (await get<string>(key, db())) ?? null,
      // a throttled write that lands after its user signed out (or another signed in) goes nowhere
      setItem: async (key, value) => { if (persistKey() === key) await set(key, value, db()) },
      removeItem: (key) => del(key, db()),
    },
  })
  return {
    ...stored,
    restoreClient: async () => {
      client.clear() // the memory cache now belongs to `owner`: nothing of whoever was signed in before
      void sweep(owner).catch(() => undefined)
      return stored.restoreClient()
    },
  }
}

export type PersistOptions = Omit<PersistQueryClientOptions, 'queryClient'>

/** The PersistQueryClientProvider's options for the entry `owner` (persistKey(); null: keep nothing). */
export function persistOptionsFor(owner: string | null, client: QueryClient): PersistOptions {
  return {
    persister: persister(owner, client),
    maxAge: MAX_AGE,
    buster: BUSTER,
    dehydrateOptions: { shouldDehydrateQuery: shouldPersistQuery, shouldDehydrateMutation: () => false },
  }
}

/** After a restore: what the device kept shows at once and counts as stale, so every query refetches
 *  when its page mounts and the network answers (a reload shows current numbers; offline, the kept
 *  answers stay on screen). Without this an answer saved seconds ago would count as fresh for its
 *  staleTime (a dashboard's minute) across the reload. */
export function afterRestore(client: QueryClient): Promise<void> {
  return client.invalidateQueries()
}

/** For the root: whose cache this is (re-read on every navigation — signing in or out always
 *  navigates) and the options for it; key the provider by `owner` so a change of user restores that
 *  user's entry. */
export function usePersistedQueries(client: QueryClient): { owner: string; persistOptions: PersistOptions } {
  useLocation()
  const owner = persistKey()
  const persistOptions = useMemo(() => persistOptionsFor(owner, client), [owner, client])
  return { owner: owner ?? '', persistOptions }
}
