// Bytes the installable console costs: the engineer's first visit (the page, plus the service worker
// precaching the shell and every page's code) and a repeat visit (a new tab in the same browser
// profile, the service worker controlling: the shell from its cache, only the API on the network),
// then offline: a reload still draws the inbox. Debian's chromium through playwright-core, as
// console/e2e/lib.mjs launch()es it (never a downloaded browser).
//
// Against a running local stack: `python -m bench.console_bytes` starts one (tools.localstack) with an
// order for the engineer; or `make run`, then `CONSOLE_URL=http://127.0.0.1:8003 node bench/console_bytes.mjs`.
// Prints JSON. Page bytes are CDP Network.loadingFinished encodedDataLength (headers + body as
// received) split into the console's shell (its origin) and the API; the service worker's own fetches
// (precache, config.json network-first) are its Resource Timing transferSize (0 when the HTTP cache
// answered). The local server sends no Content-Encoding: `*_gzip` estimates what a compressing CDN
// (CloudFront) would send for the same shell files.
import { gzipSync } from 'node:zlib'
import { launch } from '../console/e2e/lib.mjs'

const base = (process.env.CONSOLE_URL ?? 'http://127.0.0.1:8003').replace(/\/$/, '')
const who = process.env.ENGINEER ?? 'Zhang San'
const { apiUrl } = await (await fetch(`${base}/config.json`)).json()
const consoleOrigin = new URL(base).origin
const apiOrigin = new URL(apiUrl).origin
const gzipped = new Map()

async function gzipSize(url) {
  if (!gzipped.has(url)) gzipped.set(url, gzipSync(Buffer.from(await (await fetch(url)).arrayBuffer()), { level: 6 }).length)
  return gzipped.get(url)
}

/** Every response the page receives, through CDP: url, bytes received, served by the service worker. */
async function meter(page) {
  const cdp = await page.context().newCDPSession(page)
  await cdp.send('Network.enable')
  const seen = new Map()
  cdp.on('Network.responseReceived', (e) => seen.set(e.requestId, { url: e.response.url, sw: !!e.response.fromServiceWorker, status: e.response.status }))
  cdp.on('Network.loadingFinished', (e) => { const r = seen.get(e.requestId); if (r) r.bytes = e.encodedDataLength })
  return async () => {
    const rows = [...seen.values()].filter((r) => r.bytes !== undefined)
    const part = (origin, sw) => rows.filter((r) => new URL(r.url).origin === origin && r.sw === sw)
    const sum = (list) => list.reduce((n, r) => n + r.bytes, 0)
    const shellNet = part(consoleOrigin, false)
    const fromWorker = part(consoleOrigin, true)
    let gz = 0
    for (const r of shellNet) gz += await gzipSize(r.url)
    await cdp.detach()
    return {
      shell_network: { requests: shellNet.length, bytes: sum(shellNet), bytes_gzip: gz },
      shell_from_service_worker: { requests: fromWorker.length },
      api_network: { requests: part(apiOrigin, false).length, bytes: sum(part(apiOrigin, false)) },
    }
  }
}

/** What the service worker itself fetched from the network since `since` (epoch ms). */
async function workerFetches(context, since) {
  const [worker] = context.serviceWorkers()
  if (!worker) return { requests: 0, bytes: 0, bytes_gzip: 0 }
  const entries = await worker.evaluate((t) => performance.getEntriesByType('resource')
    .filter((e) => performance.timeOrigin + e.startTime >= t)
    .map((e) => ({ url: e.name, bytes: e.transferSize })), since)
  const network = entries.filter((e) => e.bytes > 0)
  let gz = 0
  for (const e of network) gz += await gzipSize(e.url)
  return { requests: network.length, from_http_cache: entries.length - network.length,
    bytes: network.reduce((n, e) => n + e.bytes, 0), bytes_gzip: gz }
}

async function signIn(page) {
  await page.goto(`${base}/login`)
  await page.getByRole('combobox', { name: /Language|语言/ }).selectOption('en')
  await page.getByRole('button', { name: new RegExp(who) }).click()
  await page.getByRole('heading', { name: 'Inbox' }).waitFor()
  await page.locator('main table.grid, main p').first().waitFor()
}

const browser = await launch()
const out = { console: base, api: apiUrl }
try {
  const context = await browser.newContext({ locale: 'en-US' })
  // first visit: nothing cached; the service worker installs (precaching everything) meanwhile
  {
    const since = Date.now()
    const page = await context.newPage()
    const done = await meter(page)
    const started = Date.now()
    await signIn(page)
    out.first_visit_inbox_ms = Date.now() - started
    await page.waitForFunction(() => !!navigator.serviceWorker?.controller, null, { timeout: 30_000 })
    await page.waitForLoadState('networkidle')
    out.first_visit = { ...(await done()), service_worker_network: await workerFetches(context, since) }
    out.precache = await page.evaluate(async () => {
      const name = (await caches.keys()).find((n) => n.startsWith('workbox-precache'))
      let bytes = 0, entries = 0
      for (const request of await (await caches.open(name)).keys()) {
        entries++
        bytes += (await (await caches.match(request)).arrayBuffer()).byteLength
      }
      return { entries, bytes }
    })
    await page.close()
  }
  // repeat visit: a new tab of the same profile (its session is per tab: sign in again), later than
  // the queries' staleTime (5 s) so the persisted answers are shown and then refreshed, as on a real return
  await new Promise((done) => setTimeout(done, Number(process.env.REPEAT_AFTER_MS ?? 6000)))
  {
    const since = Date.now()
    const page = await context.newPage()
    const done = await meter(page)
    const started = Date.now()
    await signIn(page)
    out.repeat_visit_inbox_ms = Date.now() - started
    await page.waitForLoadState('networkidle')
    out.repeat_visit = { ...(await done()), service_worker_network: await workerFetches(context, since) }
    // offline: the same tab reloads from the service worker and the engineer's persisted queries
    await context.setOffline(true)
    const reloaded = Date.now()
    await page.reload()
    await page.getByRole('heading', { name: 'Inbox' }).waitFor({ timeout: 15_000 })
    const rows = await page.locator('main table.grid tbody tr').count()
    const alerts = await page.locator('main [role=alert]').count()
    out.offline_reload = { inbox_heading: true, rows, errors_shown: alerts, ms: Date.now() - reloaded }
    await context.setOffline(false)
  }
  out.ok = out.offline_reload.errors_shown === 0
} finally {
  await browser.close()
}
console.log(JSON.stringify(out, null, 2))
if (!out.ok) process.exit(1)
