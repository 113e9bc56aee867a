// Console figures in headless Debian chromium on the local stack (python -m bench.console starts it):
// bytes of JavaScript on the first load (gzipped, as served to the browser), the inbox's first render
// after sign-in, and the API calls a list page makes (one per page of records, never one per row).
import { launch } from './lib.mjs'

const base = process.env.CONSOLE_URL
const token = process.env.TOKEN
const runs = Number(process.env.RUNS ?? 5)
const browser = await launch()
const out = { first_load: {}, inbox_first_render_ms: [], list_page: {} }
try {
  // first load: every script the login page pulls, with its gzipped size as the server would send it
  {
    const context = await browser.newContext()
    const page = await context.newPage()
    const scripts = []
    page.on('response', async (r) => { if (r.request().resourceType() === 'script') scripts.push({ url: r.url(), bytes: (await r.body()).length }) })
    await page.goto(`${base}/login`)
    await page.getByRole('button').first().waitFor()
    const { gzipSync } = await import('node:zlib')
    let raw = 0, gz = 0
    for (const s of scripts) {
      const body = await (await fetch(s.url)).arrayBuffer()
      raw += body.byteLength
      gz += gzipSync(Buffer.from(body), { level: 9 }).length
    }
    out.first_load = { scripts: scripts.length, js_bytes: raw, js_gzip_bytes: gz }
    await context.close()
  }
  // inbox first render: from navigation to the table (or the empty message) with a session in place
  for (let i = 0; i < runs; i++) {
    const context = await browser.newContext()
    await context.addInitScript((t) => sessionStorage.setItem('aftersales.session', JSON.stringify({ token: t, user: 'sup.north' })), token)
    const page = await context.newPage()
    const started = Date.now()
    await page.goto(`${base}/inbox`)
    await page.locator('main table.grid, main p').first().waitFor()
    out.inbox_first_render_ms.push(Date.now() - started)
    await context.close()
  }
  // a list page: API calls to the list route per page shown
  {
    const context = await browser.newContext()
    await context.addInitScript((t) => sessionStorage.setItem('aftersales.session', JSON.stringify({ token: t, user: 'sup.north' })), token)
    const page = await context.newPage()
    const calls = []
    page.on('request', (r) => { const u = new URL(r.url()); if (r.method() === 'GET' && u.pathname.startsWith('/forms/')) calls.push(u.pathname) })
    await page.goto(`${base}/forms/work_order`)
    await page.locator('main table.grid').waitFor()
    const rows = await page.locator('main table.grid tbody tr').count()
    const firstPage = calls.filter((p) => p.endsWith('/records')).length
    calls.length = 0
    const next = page.getByRole('button', { name: /Next page|下一页/ })
    let second = null
    if (await next.count()) {
      await next.click()
      await page.waitForLoadState('networkidle')
      second = calls.filter((p) => p.endsWith('/records')).length
    }
    out.list_page = { rows_shown: rows, list_calls_first_page: firstPage, list_calls_next_page: second,
      per_row_calls: calls.filter((p) => /\/records\/[0-9A-Z]{26}$/.test(p)).length }
    await context.close()
  }
} finally {
  await browser.close()
}
const sorted = [...out.inbox_first_render_ms].sort((a, b) => a - b)
out.inbox_first_render_median_ms = sorted[Math.floor(sorted.length / 2)]
console.log(JSON.stringify(out, null, 2))
