// The engineer's phone, offline from the start of the visit, on the real local stack (Debian's chromium
// through playwright-core; started by tests/console/test_console_field.py with two orders assigned to
// the engineer: ORDER_A waiting for acceptance, ORDER_B already on site).
//
// Online once: the field view loads the engineer's open work (POST /sync pull) and what it needs to
// work on it (definitions, van stock). Then offline, after a reload served by the service worker: accept,
// check in where the site is, two camera photos (reduced to the field's max_edge_px in the browser),
// a part drawn from the van, the report, the customer's signature, complete — all queued in IndexedDB
// and shown at once. Order B's report is edited offline while the engineer's desk PC changes it too.
// Back online, the first sync's reply is lost after the server applied it, and the tab is closed:
// a new tab sends the same queue again — the server replays, nothing is applied twice. The conflict on
// order B is shown with both values and settled by the engineer's choice (keep mine). The summary carries the
// figures (sync requests, uploads, time from online to confirmed, photo sizes) for the test to check
// against the API.
import { accessible as axeCheck, fail, labels, walk, words } from './lib.mjs'

const base = process.env.CONSOLE_URL ?? 'http://127.0.0.1:8003'
const language = process.env.FIELD_LANGUAGE ?? 'zh-CN'
const orderA = process.env.ORDER_A ?? fail('ORDER_A is required')
const orderB = process.env.ORDER_B ?? fail('ORDER_B is required')
const idA = process.env.ORDER_A_ID ?? fail('ORDER_A_ID is required')
const idB = process.env.ORDER_B_ID ?? fail('ORDER_B_ID is required')
const SITE = { latitude: 31.2304, longitude: 121.4737, accuracy: 10 }
const w = { ...words(language), d: labels(language) }
const visited = []
const figures = {}
const summary = { ok: false, language, visited, figures }
const accessible = (page, name) => axeCheck(page, `field-${name}`, visited)
const tr = (key, values) => Object.entries(values ?? {}).reduce((s, [k, v]) => s.replace(`{{${k}}}`, String(v)), w[key])

const config = await (await fetch(`${base}/config.json`)).json()
const users = await (await fetch(`${base}/local-users.json`)).json()
const token = (user) => users.find((u) => u.user === user)?.token ?? fail(`no local user ${user}`)
async function api(method, path, user, body) {
  const response = await fetch(`${config.apiUrl}${path}`, { method, headers: { Authorization: `Bearer ${token(user)}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body) })
  const data = await response.json().catch(() => null)
  if (!response.ok) fail(`${method} ${path}: ${response.status} ${JSON.stringify(data)}`)
  return data
}

const panel = (page) => page.getByTestId('sync-panel').first()
const pendingOf = async (page) => Number(await panel(page).getAttribute('data-pending'))
const state = (page, name) => page.locator(`[data-testid="state"][data-state="${name}"]`)
const card = (page, title) => page.locator('li.card').filter({ has: page.getByRole('link', { name: title, exact: true }) })

/** A camera photo: a 3000×2000 picture made in the page, handed to the file input as the camera would. */
async function takePhoto(page, inputSelector, name, hue) {
  await page.locator(inputSelector).evaluate(async (input, { name, hue }) => {
    const canvas = new OffscreenCanvas(3000, 2000)
    const c = canvas.getContext('2d')
    for (let i = 0; i < 30; i++) { c.fillStyle = `hsl(${hue + i * 7} 70% ${30 + i}%)`; c.fillRect(i * 100, 0, 100, 2000) }
    const blob = await canvas.convertToBlob({ type: 'image/png' })
    const transfer = new DataTransfer()
    transfer.items.add(new File([blob], name, { type: 'image/png' }))
    input.files = transfer.files
    input.dispatchEvent(new Event('change', { bubbles: true }))
  }, { name, hue })
}

async function sign(page) {
  const pad = page.locator('canvas.signature-pad')
  await pad.scrollIntoViewIfNeeded()
  const box = await pad.boundingBox()
  await page.mouse.move(box.x + 20, box.y + box.height / 2)
  await page.mouse.down()
  for (let i = 1; i <= 12; i++) await page.mouse.move(box.x + 20 + i * 18, box.y + box.height / 2 + (i % 2 ? -25 : 25))
  await page.mouse.up()
  await page.getByRole('button', { name: w.saveSignature }).click()
}

/** What the device holds, read from its IndexedDB (the queue's uploads: sizes as they will go up). */
const queuedUploads = (page) => page.evaluate(() => new Promise((resolve, reject) => {
  const open = indexedDB.open('aftersales-offline')
  open.onerror = () => reject(open.error)
  open.onsuccess = () => {
    const request = open.result.transaction('ops').objectStore('ops').getAll()
    request.onsuccess = () => { resolve(request.result.filter((e) => e.upload).map((e) => e.upload)); open.result.close() }
  }
}))

await walk('field', summary, async (browser) => {
  const context = await browser.newContext({ locale: language === 'en' ? 'en-US' : 'zh-CN', viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true,
    geolocation: SITE, permissions: ['geolocation'] })
  let page = await context.newPage()
  const errors = []
  const watch = (p) => {
    p.on('pageerror', (e) => errors.push(String(e)))
    p.on('console', (m) => { if (m.type() === 'error' && !/status of 4\d\d|Failed to fetch|ERR_INTERNET_DISCONNECTED|net::|Form validation failed/.test(m.text())) errors.push(m.text()) })
  }
  watch(page)

  // --- online once: sign in on the phone; the start page is the field view -----------------------------
  await page.goto(`${base}/login`)
  await page.getByRole('combobox', { name: /Language|语言/ }).selectOption(language)
  await page.getByRole('button', { name: /Zhang San/ }).click()
  await page.getByRole('heading', { level: 1, name: w.fieldApp }).waitFor()
  await card(page, orderA).waitFor()
  await card(page, orderB).waitFor()
  if (!(await card(page, orderA).getByTestId('distance').count())) fail('the list does not show the distance to the site')
  await accessible(page, 'list-online')
  for (const order of [orderA, orderB]) { // what working on them needs: definitions, van stock, parts
    await card(page, order).getByRole('link', { name: order, exact: true }).click()
    await page.getByRole('heading', { level: 1, name: new RegExp(order) }).waitFor()
    await page.waitForLoadState('networkidle')
    await accessible(page, `order-online-${order === orderA ? 'a' : 'b'}`)
    await page.getByRole('link', { name: `← ${w.fieldApp}` }).click()
    await card(page, order).waitFor()
  }
  // the service worker controls the page (the shell then opens with no network)
  const controlled = await page.evaluate(async () => { await navigator.serviceWorker.ready; return !!navigator.serviceWorker.controller })
  if (!controlled) { await page.reload(); await card(page, orderA).waitFor() }

  // --- offline from here: the visit --------------------------------------------------------------------
  await context.setOffline(true)
  await page.reload()
  await page.getByRole('heading', { level: 1, name: w.fieldApp }).waitFor()
  await card(page, orderA).waitFor()
  await panel(page).getByText(w.offline, { exact: true }).waitFor()
  await accessible(page, 'list-offline')
  await card(page, orderA).getByRole('link', { name: orderA, exact: true }).click()
  await state(page, 'AwaitAcceptance').waitFor()
  await accessible(page, 'order-offline')
  await page.getByRole('button', { name: w.d.action('accept') }).click()
  await state(page, 'Travelling').waitFor()
  await page.getByTestId('site-distance').waitFor()
  await page.getByRole('button', { name: w.checkIn }).click()
  await state(page, 'OnSite').waitFor()
  const photos = `#photo-fault_photos`
  await takePhoto(page, photos, 'IMG_0001.png', 10)
  await page.locator('section:has(#photo-fault_photos) img[data-pending="yes"]').first().waitFor()
  await takePhoto(page, photos, 'IMG_0002.png', 200)
  await page.locator('section:has(#photo-fault_photos) img[data-pending="yes"]').nth(1).waitFor()
  const vanPart = page.getByRole('combobox', { name: w.part })
  const offeredParts = await vanPart.locator('option').allInnerTexts()
  if (!offeredParts.some((o) => o.includes('Expansion valve') && o.includes(tr('inVan', { count: 5 })))) fail(`the van's stock is not shown: ${offeredParts}`)
  await vanPart.selectOption({ label: offeredParts.find((o) => o.includes('Expansion valve')) })
  await page.getByRole('spinbutton', { name: w.quantity }).fill('2')
  await page.getByRole('button', { name: w.drawPart }).click()
  await page.getByRole('list', { name: w.partsUsed }).getByText(/Expansion valve/).waitFor()
  if (!(await vanPart.locator('option', { hasText: tr('inVan', { count: 3 }) }).count())) fail('the van does not show the queued draw')
  await page.locator('#root_service_report').fill('Replaced the expansion valve; the chiller runs quietly.')
  await page.getByRole('button', { name: w.save, exact: true }).click()
  await sign(page)
  await page.locator('section:has(canvas.signature-pad) img[data-pending="yes"]').waitFor()
  await accessible(page, 'order-signed-offline')
  await page.getByRole('button', { name: w.d.action('complete') }).click()
  await state(page, 'CustomerFeedback').waitFor()
  await page.getByRole('link', { name: `← ${w.fieldApp}` }).click()

  // order B: its report edited on the phone offline ...
  await card(page, orderB).getByRole('link', { name: orderB, exact: true }).click()
  await state(page, 'OnSite').waitFor()
  await page.locator('#root_service_report').fill('Phone: cleaned the condenser coil.')
  await page.getByRole('button', { name: w.save, exact: true }).click()
  await page.getByRole('link', { name: `← ${w.fieldApp}` }).click()
  // the list's count is read from IndexedDB as the page mounts: give it a moment to settle
  let queuedCount = await pendingOf(page)
  for (let i = 0; i < 50 && queuedCount !== 9; i++) { await page.waitForTimeout(100); queuedCount = await pendingOf(page) }
  if (queuedCount !== 9) fail(`${queuedCount} changes queued, not 9`)
  const uploads = await queuedUploads(page)
  figures.photo_sizes = uploads.map((u) => ({ name: u.name, type: u.content_type, bytes: u.size, width: u.width, height: u.height }))
  if (uploads.filter((u) => u.field === 'fault_photos').some((u) => Math.max(u.width, u.height) > 1600)) fail(`photos not reduced: ${JSON.stringify(uploads)}`)
  await accessible(page, 'list-queued-offline')
  // ... while the engineer's desk PC changes the same field
  const b = await api('GET', `/forms/work_order/records/${idB}`, 'eng.zhang')
  await api('PATCH', `/forms/work_order/records/${idB}`, 'eng.zhang', { version: b.version, data: { service_report: 'Desk: replaced the fan motor.' } })

  // --- back online; the first reply is lost after the server applied it, and the tab closes --------------
  let syncs = 0, uploadPosts = 0, lost = false
  await context.route('**/sync', async (route) => {
    syncs++
    if (lost) return route.continue()
    lost = true
    await route.fetch() // the server applies the batch ...
    await route.abort('connectionreset') // ... and the phone never hears back
  })
  context.on('request', (r) => { if (r.method() === 'POST' && /\/uploads$/.test(new URL(r.url()).pathname)) uploadPosts++ })
  const online = Date.now()
  await context.setOffline(false)
  for (let i = 0; i < 100 && !lost; i++) await page.waitForTimeout(100)
  if (!lost) fail('no sync started when the network came back')
  await page.waitForTimeout(300)
  await page.close() // the tab is closed mid-sync
  page = await context.newPage()
  watch(page)
  // the session lived in the closed tab (sessionStorage): sign in again; the queue waited on the device
  await page.goto(`${base}/login`)
  await page.getByRole('button', { name: /Zhang San/ }).click()
  await page.getByRole('heading', { level: 1, name: w.fieldApp }).waitFor()
  await panel(page).locator('[data-testid="theirs"]').waitFor({ timeout: 60_000 })
  for (let i = 0; i < 600 && (await pendingOf(page)) > 0; i++) await page.waitForTimeout(100)
  figures.online_to_confirmed_ms = Date.now() - online
  figures.sync_requests = syncs
  figures.upload_declarations = uploadPosts
  if (await pendingOf(page)) fail(`${await pendingOf(page)} changes still waiting`)
  if (Number(await panel(page).getAttribute('data-failed'))) fail(`refused: ${await panel(page).innerText()}`)
  // the conflict: both values, the engineer's choice
  const mine = await panel(page).getByTestId('mine').innerText()
  const theirs = await panel(page).getByTestId('theirs').innerText()
  if (!mine.startsWith('Phone:') || !theirs.startsWith('Desk:')) fail(`conflict shows ${mine} / ${theirs}`)
  await accessible(page, 'conflict')
  await panel(page).getByRole('button', { name: w.keepMine }).click()
  for (let i = 0; i < 300 && ((await pendingOf(page)) > 0 || Number(await panel(page).getAttribute("data-conflicts"))); i++) await page.waitForTimeout(100)
  if (Number(await panel(page).getAttribute('data-conflicts')) || (await pendingOf(page))) fail('the conflict was not settled')
  // completed work leaves the engineer's list; B stays
  await card(page, orderB).waitFor()
  for (let i = 0; i < 50 && (await card(page, orderA).count()); i++) await page.waitForTimeout(100)
  if (await card(page, orderA).count()) fail('the completed order is still in the engineer\'s list')
  await accessible(page, 'list-synced')

  // --- the supervisor sees the visit ----------------------------------------------------------------
  const desk = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 900 } })
  const sup = await desk.newPage()
  watch(sup)
  const sw = { ...words('en'), d: labels('en') }
  await sup.goto(`${base}/login`)
  await sup.getByRole('combobox', { name: /Language|语言/ }).selectOption('en')
  await sup.getByRole('button', { name: /Wang Wei/ }).click()
  await sup.getByRole('heading', { name: sw.inbox }).waitFor()
  await sup.goto(`${base}/forms/work_order/records/${idA}`)
  await sup.locator('[data-testid="state"][data-state="CustomerFeedback"]').waitFor()
  await sup.getByRole('table', { name: sw.d.field('work_order', 'parts_used') }).getByRole('link', { name: /Expansion valve/ }).waitFor()
  for (const name of ['IMG_0001.jpg', 'IMG_0002.jpg', 'signature.png']) await sup.locator(`img.thumb[alt="${name}"]`).waitFor()
  await sup.getByRole('heading', { name: sw.history }).waitFor()
  await axeCheck(sup, 'field-supervisor-view', visited)
  await desk.close()
  if (errors.length) fail(`browser errors: ${errors.join(' | ')}`)
}, async (browser) => { // what the device kept: the persisted queries' keys and states
  const [page] = browser.contexts().flatMap((c) => c.pages())
  if (page) summary.kept = await page.evaluate(() => new Promise((resolve) => {
    const open = indexedDB.open('aftersales-queries')
    open.onsuccess = () => {
      const r = open.result.transaction('clients').objectStore('clients').getAll()
      r.onsuccess = () => resolve(r.result.map((v) => JSON.parse(v).clientState.queries.map((q) => `${JSON.stringify(q.queryKey)} ${q.state.status}`)))
    }
    open.onerror = () => resolve(String(open.error))
  }))
})
