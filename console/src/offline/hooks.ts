import { useQuery, useQueryClient } from '@tanstack/react-query'
import { useEffect, useSyncExternalStore } from 'react'
import { get } from '../lib/api'
import { session } from '../lib/auth'
import { isOnline, subscribeNetwork } from '../lib/network'
import { cachedRecord, cachedRecords, meta, queued, subscribe } from './queue'
import { isSyncing, onSynced, syncNow } from './sync'

const AUTO_SYNC_MS = 30_000
const PROBE_MS = 5_000 // while the API cannot be reached: is it back?

// The device's own data lives in IndexedDB: these queries read it whatever the network does
// ('always'), are refreshed whenever it changes (any tab), and are never persisted a second time.
const local = { networkMode: 'always' as const, staleTime: Infinity, meta: { persist: false } }

function useRefreshOnChange() {
  const queries = useQueryClient()
  useEffect(() => subscribe(() => void queries.invalidateQueries({ queryKey: ['offline'] })), [queries])
}

export function useQueue() {
  useRefreshOnChange()
  return useQuery({ queryKey: ['offline', 'queue', session()?.user], queryFn: queued, ...local })
}

export function useSyncMeta() {
  useRefreshOnChange()
  return useQuery({ queryKey: ['offline', 'meta', session()?.user], queryFn: meta, ...local })
}

export function useFieldRecords() {
  useRefreshOnChange()
  return useQuery({ queryKey: ['offline', 'records', session()?.user], queryFn: cachedRecords, ...local })
}

export function useFieldRecord(id: string) {
  useRefreshOnChange()
  return useQuery({ queryKey: ['offline', 'record', session()?.user, id], queryFn: async () => (await cachedRecord(id)) ?? null, ...local })
}

export function useOnline(): boolean {
  return useSyncExternalStore(subscribeNetwork, isOnline)
}

export function useSyncing(): boolean {
  return useSyncExternalStore(subscribe, isSyncing)
}

/** Syncs when the network returns, when the page comes back into view, every 30 s while something
 *  waits, and right after a change is queued; refreshes the server copies pages show after each. */
export function useSyncDriver(enabled: boolean) {
  const queries = useQueryClient()
  useEffect(() => {
    if (!enabled) return
    const attempt = () => { if (isOnline() && session()) syncNow().catch(() => {}) }
    const visible = () => { if (document.visibilityState === 'visible') attempt() }
    let wasOnline = isOnline()
    const offNetwork = subscribeNetwork(() => { // the API is back: send what waits
      const now = isOnline()
      if (now && !wasOnline) attempt()
      wasOnline = now
    })
    document.addEventListener('visibilitychange', visible)
    const timer = window.setInterval(async () => {
      if ((await queued()).some((e) => e.state === 'pending')) attempt()
    }, AUTO_SYNC_MS)
    const probe = window.setInterval(() => {
      if (navigator.onLine && !isOnline()) get('/health').catch(() => {}) // an answer marks the API reachable
    }, PROBE_MS)
    const off = onSynced((records) => {
      for (const r of records) {
        for (const key of [['record', r.form, r.id], ['actions', r.form, r.id], ['history', r.form, r.id]]) void queries.invalidateQueries({ queryKey: key })
      }
      void queries.invalidateQueries({ queryKey: ['tasks'] })
    })
    attempt()
    return () => {
      offNetwork()
      document.removeEventListener('visibilitychange', visible)
      window.clearInterval(timer)
      window.clearInterval(probe)
      off()
    }
  }, [enabled, queries])
}
