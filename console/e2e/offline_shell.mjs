// The installable console with no network (Debian's chromium through playwright-core; started by
// tests/console/test_console_offline_shell.py, which brings up the local stack and gives the engineer
// one order). The engineer signs in, the service worker takes control (one reload if it has not),
// the inbox and the order's page are opened so their answers are in the engineer's persisted query
// cache; then the browser goes offline and reloads: the shell comes from the service worker, the inbox
// shows the cached list (no error), and the record page — a lazily loaded chunk never fetched since
// the reload — opens from the precache with the cached order. axe-core on both offline pages. Back
// online, signing out leaves no entry on the device.
import { accessible as axeCheck, fail, walk, words } from './lib.mjs'

const base = process.env.CONSOLE_URL ?? 'http://127.0.0.1:8003'
const w = words('en')
const visited = []
const summary = { ok: false, visited, timings: {} }
const accessible = (page, name) => axeCheck(page, `offline-${name}`, visited)
const started = Date.now()
const lap = (name) => (summary.timings[name] = Date.now() - started)

/** The engineer's entry in the persisted query cache: its key and the kinds of answers in it. */
async function persisted(page) {
  return page.evaluate(async () => {
    // never open (and so create) the database before the console has: it would lack its store
    if (!(await indexedDB.databases()).some((d) => d.name === 'aftersales-queries')) return null
    const db = await new Promise((done, failed) => { const r = indexedDB.open('aftersales-queries'); r.onsuccess = () => done(r.result); r.onerror = failed })
    try {
      if (!db.objectStoreNames.contains('clients')) return null
      const store = db.transaction('clients').objectStore('clients')
      const keys = await new Promise((done) => { const r = store.getAllKeys(); r.onsuccess = () => done(r.result) })
      const entries = []
      for (const key of keys) {
        const value = await new Promise((done) => { const r = db.transaction('clients').objectStore('clients').get(key); r.onsuccess = () => done(r.result) })
        entries.push({ key, kinds: JSON.parse(value).clientState.queries.map((q) => q.queryKey.slice(0, 2).join(':')) })
      }
      return entries
    } finally {
      db.close()
    }
  })
}

async function until(what, probe, ms = 15_000) {
  const deadline = Date.now() + ms
  for (;;) {
    const value = await probe()
    if (value) return value
    if (Date.now() > deadline) fail(`timed out waiting for ${what}`)
    await new Promise((done) => setTimeout(done, 200))
  }
}

await walk('offline-shell', summary, async (browser) => {
  const context = await browser.newContext({ locale: 'en-US' })
  const page = await context.newPage()
  summary.console = []
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') summary.console.push(`${m.type()}: ${m.text()}`.slice(0, 300)) })
  page.on('pageerror', (e) => summary.console.push(`pageerror: ${e.message}`.slice(0, 300)))
  await page.goto(`${base}/login`)
  await page.getByRole('combobox', { name: /Language|语言/ }).selectOption('en')
  await page.getByRole('button', { name: /Zhang San/ }).click()
  await page.getByRole('heading', { name: w.inbox }).waitFor()
  const links = page.locator('main table.grid tbody tr a')
  await links.first().waitFor()
  const rows = await page.locator('main table.grid tbody tr').count()
  const order = (await links.first().textContent()).trim()
  lap('signed_in_ms')

  // the service worker: installed and controlling this page (clientsClaim), else after one reload
  const controlled = () => page.evaluate(() => !!navigator.serviceWorker?.controller)
  try {
    await until('the service worker', controlled, 10_000)
  } catch {
    await page.reload()
    await until('the service worker after a reload', controlled, 10_000)
  }
  const precached = await page.evaluate(async () => {
    const names = await caches.keys()
    const precache = names.find((n) => n.startsWith('workbox-precache'))
    return precache ? (await (await caches.open(precache)).keys()).map((r) => new URL(r.url).pathname) : []
  })
  summary.precached = precached.length
  if (!precached.some((p) => /\/assets\/RecordPage-.*\.js$/.test(p))) fail(`the record page's chunk is not precached: ${precached}`)
  lap('service_worker_ms')

  // the order's page once online (its answers kept too), then back to the inbox
  await links.first().click()
  await page.locator('h1#record-title').waitFor()
  await page.getByRole('link', { name: w.inbox }).click()
  await page.getByRole('heading', { name: w.inbox }).waitFor()
  const entries = await until('the inbox and the order in the persisted cache', async () => {
    const found = await persisted(page)
    const mine = found?.find((e) => e.key.endsWith('.eng.zhang'))
    return mine && mine.kinds.includes('tasks') && mine.kinds.some((k) => k.startsWith('record:work_order')) ? found : null
  })
  summary.persisted = entries
  if (entries.length !== 1) fail(`one user signed in, ${entries.length} entries: ${JSON.stringify(entries)}`)

  // offline: a reload is served by the service worker, the inbox by the persisted cache
  const responses = []
  page.on('response', (r) => responses.push({ url: new URL(r.url()).pathname, type: r.request().resourceType(), sw: r.fromServiceWorker(), status: r.status() }))
  await context.setOffline(true)
  // the service worker is offline too (config.json then comes from its cache)
  const [worker] = context.serviceWorkers()
  summary.service_worker_offline = worker ? await worker.evaluate(() => fetch('/config.json', { cache: 'no-store' }).then(() => false, () => true)) : null
  await page.reload()
  await page.getByRole('heading', { name: w.inbox }).waitFor()
  await page.locator('main table.grid tbody tr').first().waitFor()
  const offlineRows = await page.locator('main table.grid tbody tr').count()
  if (offlineRows !== rows) fail(`offline inbox: ${offlineRows} rows, ${rows} online`)
  if (await page.locator('main [role=alert]').count()) fail(`offline inbox shows an error: ${await page.locator('main [role=alert]').first().textContent()}`)
  await accessible(page, 'inbox')
  lap('offline_inbox_ms')

  // a lazy route: the record page's chunk comes from the precache, its answers from the cache
  await page.getByRole('link', { name: order }).first().click()
  const heading = page.locator('h1#record-title')
  await heading.waitFor()
  summary.offline_record_heading = (await heading.textContent()).trim()
  if (await page.locator('main [role=alert]').count()) fail(`offline record page shows an error: ${await page.locator('main [role=alert]').first().textContent()}`)
  await accessible(page, 'record')
  lap('offline_record_ms')

  // back online, signing out drops the engineer's entry from the device
  await context.setOffline(false)
  await page.getByRole('button', { name: w.signOut }).click()
  await page.getByRole('button', { name: /Zhang San/ }).waitFor()
  summary.after_sign_out = await until('the entry dropped at sign-out', async () => {
    const found = await persisted(page)
    return found && found.length === 0 ? found : null
  })

  const shell = responses.filter((r) => ['document', 'script', 'stylesheet'].includes(r.type))
  summary.offline_shell = { responses: shell.length, from_service_worker: shell.filter((r) => r.sw).length,
    record_chunk: shell.filter((r) => /\/assets\/RecordPage-/.test(r.url)).map((r) => r.sw) }
  if (!shell.length || shell.some((r) => !r.sw || r.status !== 200)) fail(`offline, not all of the shell came from the service worker: ${JSON.stringify(shell)}`)
  if (!summary.offline_shell.record_chunk.includes(true)) fail('the record page chunk was not loaded offline')
  summary.rows = rows
})
