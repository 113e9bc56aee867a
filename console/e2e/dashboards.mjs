// Browser walk of the manager's dashboards on the real local stack (Debian's chromium, playwright-core),
// started by tests/console/test_console_dashboards.py with CONSOLE_URL. The service manager signs in,
// opens each dashboard from the sidebar (en, then zh-CN), every chart is drawn as SVG under the console's
// CSP with no page error, the weekly backlog axis labelled by the buckets' Mondays, axe-core finds no serious or critical violation, a bar of "Orders per region and
// status" opens the work-order list filtered by its region, and the CSV export downloads the report's rows.
// Exit code 0 = every step passed; screenshots go to e2e/screenshots/ (ignored).
import { readFileSync } from 'node:fs'
import { accessible as axeCheck, fail, labels, walk } from './lib.mjs'

const base = process.env.CONSOLE_URL ?? 'http://127.0.0.1:8003'
const visited = []

const accessible = (page, name) => axeCheck(page, name, visited)

async function allChartsDrawn(page) {
  await page.locator('figure.chart').first().waitFor()
  const figures = page.locator('figure.chart')
  const count = await figures.count()
  const drawn = []
  for (let i = 0; i < count; i++) {
    const figure = figures.nth(i)
    const name = await figure.locator('h2').textContent()
    if (await figure.locator('p.muted', { hasText: /cannot be shown|无法显示/ }).count()) fail(`chart ${name} is unavailable`)
    if (await figure.locator('> div.chart-table, > p.no-data').count()) continue // a table chart, or no rows yet: an HTML table / a sentence
    await figure.locator('.chart-canvas svg').waitFor({ timeout: 15_000 })
    drawn.push(name)
  }
  return { charts: count, drawn }
}

const summary = { ok: false, visited, charts: {} }
await walk('dashboards', summary, async (browser) => {
  const context = await browser.newContext({ locale: 'en-US', timezoneId: 'America/Los_Angeles', viewport: { width: 1400, height: 1000 },
    acceptDownloads: true })
  const page = await context.newPage()
  const errors = []
  page.on('pageerror', (e) => errors.push(String(e)))
  page.on('console', (m) => { if (m.type() === 'error' && !/status of 4\d\d/.test(m.text())) errors.push(m.text()) })
  const requested = []
  page.on('request', (r) => requested.push(r.url()))

  await page.goto(`${base}/login`)
  await page.getByRole('combobox', { name: /Language|语言/ }).selectOption('en')
  await page.getByRole('button', { name: /Zhao Min/ }).click()
  await page.getByRole('heading', { name: 'Inbox' }).waitFor()

  const menu = page.getByRole('navigation')
  await menu.getByRole('heading', { name: 'Dashboards' }).waitFor()
  await menu.getByRole('link', { name: 'After-sales service overview' }).click()
  await page.getByRole('heading', { level: 1, name: 'After-sales service overview' }).waitFor()
  summary.charts.service_overview = await allChartsDrawn(page)
  await accessible(page, 'dashboard-service-overview-en')
  // the weekly backlog axis: each bucket's Monday once, none shifted (the browser is in Los Angeles)
  const weeks = await page.getByRole('figure', { name: 'Open orders by week reported' }).locator('.role-axis-label text').allTextContents()
  summary.backlog_axis = weeks.filter((w) => /^\d{4}-\d{2}-\d{2}$/.test(w))

  // the data table fallback opens, and a mark opens the records it stands for
  const byRegion = page.getByRole('figure', { name: 'Orders per region and status' })
  await byRegion.locator('summary').click()
  await byRegion.getByRole('table').waitFor()
  await accessible(page, 'dashboard-data-table-en')
  const bar = byRegion.locator('.mark-rect path').first()
  await bar.click()
  await page.waitForURL(/\/forms\/work_order\?filter\.region=/)
  await page.getByRole('heading', { name: 'Work order' }).waitFor()
  summary.drill_down = new URL(page.url()).search
  await page.goBack()

  // CSV through the API with the token in a header: a file arrives, no URL carried the token
  const overview = page.getByRole('figure', { name: 'Orders by status' })
  await overview.waitFor()
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    overview.getByRole('button', { name: /CSV/ }).click(),
  ])
  const path = await download.path()
  const csv = readFileSync(path, 'utf8')
  if (!csv.startsWith('region,status,orders')) fail(`unexpected CSV: ${csv.slice(0, 80)}`)
  summary.csv_filename = download.suggestedFilename()
  const token = await page.evaluate(() => JSON.parse(sessionStorage.getItem('aftersales.session') ?? '{}').token)
  if (requested.some((u) => token && u.includes(token))) fail('a request URL carried the token')

  // the second dashboard, in Chinese
  await page.getByRole('combobox', { name: /Language|语言/ }).selectOption('zh-CN')
  const zh = labels('zh-CN') // the menu and the dashboard now speak Chinese: the definitions' translations
  await menu.getByRole('link', { name: zh.dashboard('engineers_and_parts') }).click()
  await page.getByRole('heading', { level: 1, name: zh.dashboard('engineers_and_parts') }).waitFor()
  summary.charts.engineers_and_parts = await allChartsDrawn(page)
  await page.getByRole('button', { name: /导出 CSV|CSV/ }).first().waitFor()
  await accessible(page, 'dashboard-engineers-and-parts-zh')

  if (errors.length) fail(`page errors: ${errors.join(' | ')}`)
})
