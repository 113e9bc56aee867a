// The persisted query cache is per user: one entry per signed-in user, restored for that user only,
// dropped at sign-out, and a write still on its way when the user changes lands nowhere.
import { QueryClient } from '@tanstack/react-query'
import { persistQueryClientRestore, persistQueryClientSave } from '@tanstack/react-query-persist-client'
import { afterEach, describe, expect, it, vi } from 'vitest'

const stored = new Map<string, unknown>()
vi.mock('idb-keyval', () => ({
  createStore: () => 'store',
  get: async (key: string) => stored.get(key),
  set: async (key: string, value: unknown) => void stored.set(key, value),
  del: async (key: string) => void stored.delete(key),
  keys: async () => [...stored.keys()],
}))
vi.mock('./config', () => ({ config: () => ({ apiUrl: 'https://api.example', auth: 'local' }) }))

const { signIn, signOut } = await import('./auth')
const { afterRestore, BUSTER, forgetOnSignOut, persistKey, persistOptionsFor } = await import('./persist')

const ZHANG = { token: 't1', user: 'eng.zhang', name: 'Zhang San' }
const LI = { token: 't2', user: 'agent.li', name: 'Li Na' }

function clientWith(entries: [unknown[], unknown][]): QueryClient {
  const client = new QueryClient()
  for (const [key, data] of entries) client.setQueryData(key, data)
  return client
}

async function save(client: QueryClient) {
  const options = persistOptionsFor(persistKey(), client)
  await persistQueryClientSave({ ...options, queryClient: client })
  await new Promise((done) => setTimeout(done, 0))
}

const restore = (client: QueryClient) => persistQueryClientRestore({ ...persistOptionsFor(persistKey(), client), queryClient: client })

afterEach(() => {
  signOut()
  stored.clear()
})

describe('the persisted query cache', () => {
  it('is one entry per user and API', () => {
    expect(persistKey(ZHANG)).toBe('aftersales.queries.https://api.example.eng.zhang')
    expect(persistKey(null)).toBeNull()
  })

  it('keeps answers, not the demo users, the OIDC result, presigned URLs or mutations', async () => {
    signIn(ZHANG)
    const client = clientWith([[['tasks'], { items: [1] }], [['local-users'], [{ token: 'x' }]], [['oidc-callback'], '/inbox'],
      [['file', 'k'], { url: 'https://s3/signed' }]])
    client.getMutationCache().build(client, { mutationKey: ['patch'] })
    await save(client)
    const entry = JSON.parse(stored.get(persistKey()!) as string)
    expect(entry.buster).toBe(BUSTER)
    expect(entry.clientState.queries.map((q: { queryKey: unknown[] }) => q.queryKey[0])).toEqual(['tasks'])
    expect(entry.clientState.mutations).toEqual([])
  })

  it('restores a user\'s own entry only, emptying what another user left in memory', async () => {
    signIn(ZHANG)
    await save(clientWith([[['tasks'], { items: ['zhang'] }]]))
    signIn(LI) // on the same device, no sign-out in between
    const client = clientWith([[['tasks'], { items: ['zhang'] }]])
    await restore(client)
    expect(client.getQueryData(['tasks'])).toBeUndefined()
    signIn(ZHANG)
    const again = new QueryClient()
    await restore(again)
    expect(again.getQueryData(['tasks'])).toEqual({ items: ['zhang'] })
  })

  it('is dropped, with the memory cache, when its user signs out', async () => {
    const client = clientWith([])
    const stop = forgetOnSignOut(client)
    signIn(ZHANG)
    client.setQueryData(['tasks'], { items: ['zhang'] })
    await save(client)
    expect(stored.size).toBe(1)
    signOut()
    await new Promise((done) => setTimeout(done, 0))
    expect(stored.size).toBe(0)
    expect(client.getQueryData(['tasks'])).toBeUndefined()
    stop()
  })

  it('shows what it kept at once, stale, so a reload refetches it (a minute-fresh dashboard too)', async () => {
    signIn(ZHANG)
    await save(clientWith([[['dashboard', 'service_overview'], { charts: [1] }]]))
    const client = new QueryClient({ defaultOptions: { queries: { staleTime: 60_000 } } })
    await restore(client)
    const kept = client.getQueryCache().find({ queryKey: ['dashboard', 'service_overview'] })!
    expect(kept.state.data).toEqual({ charts: [1] })
    expect(kept.isStaleByTime(60_000)).toBe(false) // saved just now: fresh for a minute without afterRestore
    await afterRestore(client)
    expect(kept.state.data).toEqual({ charts: [1] })
    expect(kept.isStaleByTime(60_000)).toBe(true)
  })

  it('takes no write for a user who is no longer signed in', async () => {
    signIn(ZHANG)
    const client = clientWith([[['tasks'], { items: ['zhang'] }]])
    const options = persistOptionsFor(persistKey(), client)
    signIn(LI) // the write below was on its way (throttled) when the user changed
    await persistQueryClientSave({ ...options, queryClient: client })
    await new Promise((done) => setTimeout(done, 0))
    expect(stored.size).toBe(0)
  })
})
