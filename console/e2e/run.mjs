// Browser walk of the console on the real local stack, through the UI only (Debian's chromium driven
// by playwright-core; never a downloaded browser). Started by tests/console/test_console_browser.py,
// which brings up the stack (DynamoDB Local in memory, chalice local, the worker, the console server)
// and passes CONSOLE_URL. Exit code 0 = every step passed; screenshots go to e2e/screenshots/ (ignored).
//
// The walk: the service desk (en) signs in with one click, creates a customer and a work order from
// forms drawn from the platform's JSON Schema, and lands on the order in Review; the supervisor (zh-CN)
// finds it in the inbox, edits the one field the Review state lets them edit, and assigns the engineer;
// the engineer sees the order in their inbox. Every page visited passes axe-core with no serious or
// critical violation. A second app installed in the tenant (FIXTURE_FORM) shows in the menu.
import { join } from 'node:path'
import { accessible as axeCheck, fail, launch, shots } from './lib.mjs'

const base = process.env.CONSOLE_URL ?? 'http://127.0.0.1:8003'
const secondAppForm = process.env.SECOND_APP_TITLE // a form of a small second app, installed by the test
const timings = {}
// a 2×2 PNG
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP8z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg==', 'base64')
const visited = []

const accessible = (page, name) => axeCheck(page, name, visited)

async function signIn(page, language, who) {
  await page.goto(`${base}/login`)
  await page.getByRole('combobox', { name: /Language|语言/ }).selectOption(language)
  await page.getByRole('button', { name: new RegExp(who) }).waitFor()
  await accessible(page, `login-${language}`)
  const started = Date.now()
  await page.getByRole('button', { name: new RegExp(who) }).click()
  await page.getByRole('heading', { name: language === 'en' ? 'Inbox' : '待办' }).waitFor()
  await page.locator('table.grid, main p').first().waitFor()
  timings[`inbox_after_sign_in_ms_${language}`] = Date.now() - started
}

/** Save the open edit form; if the platform changed the record meanwhile (a version conflict — the
 *  page reloads the record and keeps the edits), save again, as a person would. */
async function saveEdits(page, label, editLabel) {
  for (let attempt = 0; attempt < 3; attempt++) {
    await page.getByRole('button', { name: label, exact: true }).click()
    const done = page.getByRole('button', { name: editLabel, exact: true })
    const conflict = page.getByRole('alert').filter({ hasText: /changed this record|已被他人修改/ })
    await done.or(conflict).first().waitFor()
    if (await done.isVisible()) return
    await page.waitForLoadState('networkidle')
  }
  fail('the edits could not be saved')
}

async function signOut(page, language) {
  await page.getByRole('button', { name: language === 'en' ? 'Sign out' : '退出' }).click()
  await page.waitForURL(/\/login$/)
}

const browser = await launch()
let code = 0
try {
  // the browser's position is the service site (the engineer checks in where the order's map pin is)
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 900 },
    geolocation: { latitude: 31.2304, longitude: 121.4737, accuracy: 10 }, permissions: ['geolocation'] })
  const page = await context.newPage()
  const errors = []
  page.on('pageerror', (e) => errors.push(String(e)))
  page.on('console', (m) => { if (m.type() === 'error' && !/status of 4\d\d|Form validation failed/.test(m.text())) errors.push(m.text()) })

  // --- the service desk, in English -----------------------------------------------------------
  await signIn(page, 'en', 'Li Na')
  await accessible(page, 'inbox-desk-en')
  const menu = page.getByRole('navigation', { name: 'Forms' })
  await menu.getByRole('link', { name: 'Work order' }).waitFor()
  if (secondAppForm) await menu.getByRole('link', { name: secondAppForm }).waitFor() // a second app, no console change

  await menu.getByRole('link', { name: 'Customer' }).click()
  await page.getByRole('heading', { name: 'Customer' }).waitFor()
  await accessible(page, 'list-customers-en')
  await page.getByRole('link', { name: 'New' }).click()
  await page.locator('#root_name').fill('Harbour Hotel')
  await page.locator('#root_phone').fill('13800138000')
  await accessible(page, 'new-customer-en')
  await page.getByRole('button', { name: 'Create' }).click()
  await page.getByRole('heading', { name: /Customer · / }).waitFor()

  await menu.getByRole('link', { name: 'Work order' }).click()
  await page.getByRole('heading', { name: 'Work order' }).waitFor()
  await page.getByRole('link', { name: 'New' }).click()
  await page.locator('#root_customer option', { hasText: 'Harbour Hotel' }).first().waitFor({ state: 'attached' })
  // a server 422 appears at its field: submit without the required fault description first
  await page.locator('#root_customer').selectOption({ label: await page.locator('#root_customer option', { hasText: 'Harbour Hotel' }).first().innerText() })
  await page.locator('#root_region').selectOption({ label: 'North' })
  // conditions apply live, in the browser, with the server's expression language
  if (await page.locator('#root_repair_quote').count()) fail('repair quote shown before the order is out of warranty')
  await page.locator('#root_warranty_status').selectOption({ label: 'Out of warranty' })
  await page.locator('#root_repair_quote').waitFor()
  await page.locator('#root_warranty_status').selectOption({ label: 'Unknown' })
  await page.locator('#root_repair_quote').waitFor({ state: 'detached' })
  await page.locator('#root_service_address').fill('1 Harbour Road')
  await page.getByRole('button', { name: 'Create' }).click()
  await page.locator('#root_fault_description').waitFor()
  await page.locator('.form-group:has(#root_fault_description) .text-danger, #root_fault_description__error').first().waitFor()
  await accessible(page, 'new-order-errors-en')
  await page.locator('#root_fault_description').fill('The chiller is noisy and warm')
  await page.getByRole('button', { name: 'Create' }).click()
  await page.getByRole('heading', { name: /Work order · WO-/ }).waitFor()
  const state = await page.getByTestId('state').innerText()
  if (state !== 'Review') fail(`new order is in ${state}, not Review`)
  await page.getByRole('list', { name: 'Deadlines' }).getByText(/response: due in/).waitFor() // the SLA clock
  const orderTitle = (await page.getByRole('heading', { level: 1 }).innerText()).split('·')[1].trim()
  // a photo of the fault, through the presigned flow (declare → POST to the file store → confirm)
  await page.getByLabel('Add a file to Fault photos').setInputFiles({ name: 'fault.png', mimeType: 'image/png', buffer: PNG })
  await page.locator('img.thumb[alt="fault.png"]').waitFor()
  const shown = await page.locator('img.thumb[alt="fault.png"]').evaluate((img) => img.complete && img.naturalWidth > 0)
  if (!shown) fail('the uploaded photo does not display')
  await accessible(page, 'order-review-desk-en')
  // the list names the customer (titles come with the page), not its id
  await menu.getByRole('link', { name: 'Work order' }).click()
  await page.getByRole('row').filter({ hasText: orderTitle }).getByRole('cell', { name: 'Harbour Hotel' }).waitFor()
  await accessible(page, 'list-orders-desk-en')
  await signOut(page, 'en')

  // --- the supervisor, in Chinese ---------------------------------------------------------------
  await signIn(page, 'zh-CN', 'Wang Wei')
  await accessible(page, 'inbox-supervisor-zh')
  await page.getByRole('link', { name: orderTitle }).first().click()
  await page.getByRole('heading', { name: new RegExp(orderTitle) }).waitFor()
  await page.getByText('可编辑：').waitFor()
  await accessible(page, 'order-review-supervisor-zh')
  await page.getByText('显示流程图').click()
  await page.getByRole('figure', { name: '流程图' }).locator('.react-flow__node.wf-current').filter({ hasText: 'Review' }).waitFor()
  await accessible(page, 'order-diagram-supervisor-zh')
  // edit what the Review state allows (the priority), then dispatch with the explanation visible
  await page.getByRole('button', { name: '编辑' }).click()
  await page.locator('#root_priority').selectOption({ label: 'High' })
  await accessible(page, 'order-edit-supervisor-zh')
  await saveEdits(page, '保存', '编辑')
  await page.getByRole('heading', { name: /派工/ }).waitFor()
  await page.getByRole('columnheader', { name: '为什么是这位工程师' }).waitFor()
  const explained = await page.locator('table.grid .parts li').count()
  if (explained < 2) fail('the dispatch candidates show no score parts')
  await accessible(page, 'order-dispatch-supervisor-zh')
  await page.getByRole('button', { name: /派给 Zhang San/ }).click()
  await page.getByTestId('state').filter({ hasText: 'AwaitAcceptance' }).waitFor()
  // the board shows it in its new column
  await page.getByRole('navigation').getByRole('link', { name: 'Work order' }).click()
  await page.getByRole('link', { name: '看板' }).click()
  await page.getByRole('region', { name: 'AwaitAcceptance' }).getByRole('link', { name: orderTitle }).waitFor()
  await accessible(page, 'board-supervisor-zh')
  await page.getByRole('region', { name: 'AwaitAcceptance' }).getByRole('link', { name: orderTitle }).click()
  await page.getByRole('heading', { name: '历史' }).waitFor()
  await accessible(page, 'order-assigned-supervisor-zh')
  // batch dispatch of the backlog: a preview first, nothing written
  await page.getByRole('navigation').getByRole('link', { name: 'Work order' }).click()
  await page.getByRole('link', { name: '看板' }).click()
  await page.getByRole('link', { name: '批量派工' }).click()
  await page.getByRole('combobox', { name: 'Service region' }).selectOption({ label: 'North' })
  await page.getByRole('button', { name: '预览派工方案' }).click()
  await page.getByRole('status').filter({ hasText: '预览（尚未写入）' }).waitFor()
  await accessible(page, 'batch-dispatch-preview-supervisor-zh')
  await signOut(page, 'zh-CN')

  // --- the engineer sees it waiting, and was told -----------------------------------------------
  await signIn(page, 'zh-CN', 'Zhang San')
  await page.getByRole('link', { name: orderTitle }).first().waitFor()
  await accessible(page, 'inbox-engineer-zh')
  await page.getByRole('link', { name: /^通知/ }).click()
  await page.getByRole('heading', { name: '通知' }).waitFor()
  await page.locator('.notes li').first().waitFor()
  await accessible(page, 'notifications-engineer-zh')
  // accept, check in where the site is, draw a part from the van, report, signature, complete
  await page.locator('.notes li a', { hasText: orderTitle }).first().click()
  await page.getByRole('heading', { name: new RegExp(orderTitle) }).waitFor()
  await page.getByRole('button', { name: 'Accept' }).click()
  await page.getByTestId('state').filter({ hasText: 'Travelling' }).waitFor()
  await page.getByRole('button', { name: '在此签到' }).click()
  await page.getByTestId('state').filter({ hasText: 'OnSite' }).waitFor()
  await accessible(page, 'order-onsite-engineer-zh')
  await page.getByRole('combobox', { name: '备件' }).selectOption({ label: 'Expansion valve (VLV-1)' })
  await page.getByRole('spinbutton', { name: '数量' }).fill('2')
  await page.getByRole('button', { name: '从库存领用' }).click()
  await page.getByRole('table', { name: 'Parts used' }).getByRole('link', { name: /Expansion valve/ }).waitFor()
  await page.getByRole('button', { name: '编辑' }).click()
  await page.locator('#root_service_report').fill('Replaced the expansion valve; the chiller runs quietly.')
  await saveEdits(page, '保存', '编辑')
  const pad = page.locator('canvas.signature-pad')
  await page.waitForLoadState('networkidle') // the page settles (refreshed record, history) before the pen moves
  await pad.scrollIntoViewIfNeeded()
  const box = await pad.boundingBox()
  await page.mouse.move(box.x + 20, box.y + box.height / 2)
  await page.mouse.down()
  for (let i = 1; i <= 12; i++) await page.mouse.move(box.x + 20 + i * 18, box.y + box.height / 2 + (i % 2 ? -25 : 25))
  await page.mouse.up()
  await page.getByRole('button', { name: '保存签名' }).click()
  await page.locator('img.thumb[alt="signature.png"]').waitFor()
  await accessible(page, 'order-signed-engineer-zh')
  await page.getByRole('button', { name: 'Complete service' }).click()
  await page.getByTestId('state').filter({ hasText: 'CustomerFeedback' }).waitFor()
  await accessible(page, 'order-completed-engineer-zh')
  await signOut(page, 'zh-CN')

  // --- the desk again, now in Chinese: the customer's rating by phone (stars), then close ------------
  await signIn(page, 'zh-CN', 'Li Na')
  await page.getByRole('link', { name: orderTitle }).first().click()
  await page.getByTestId('state').filter({ hasText: 'CustomerFeedback' }).waitFor()
  await page.getByRole('button', { name: '编辑' }).click()
  await page.getByRole('radiogroup').locator('label.star').nth(3).click()
  if (!(await page.getByRole('radio', { name: '4 / 5' }).isChecked())) fail('the fourth star is not set')
  await accessible(page, 'order-feedback-desk-zh')
  await saveEdits(page, '保存', '编辑')
  await page.getByRole('button', { name: 'Close' }).click()
  await page.getByTestId('state').filter({ hasText: 'Closed' }).waitFor()
  await accessible(page, 'order-closed-desk-zh')
  await signOut(page, 'zh-CN')

  // --- every role also in English ---------------------------------------------------------------
  for (const who of ['Wang Wei', 'Zhang San']) {
    await signIn(page, 'en', who)
    await accessible(page, `inbox-${who.split(' ')[0].toLowerCase()}-en`)
    await signOut(page, 'en')
  }

  // --- phone width, both languages: the same pages laid out for a narrow screen ------------------
  await page.setViewportSize({ width: 390, height: 844 })
  for (const [language, who] of [['en', 'Li Na'], ['zh-CN', 'Wang Wei']]) {
    await signIn(page, language, who)
    await accessible(page, `phone-inbox-${language}`)
    await page.getByRole('navigation', { name: language === 'en' ? 'Forms' : '表单' }).getByRole('link', { name: 'Work order' }).click()
    await page.getByRole('link', { name: orderTitle }).first().click()
    await page.getByRole('heading', { name: new RegExp(orderTitle) }).waitFor()
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
    if (overflow > 2) fail(`the record page is ${overflow}px wider than a phone (${language})`)
    await accessible(page, `phone-order-${language}`)
    await signOut(page, language)
  }
  await page.setViewportSize({ width: 1280, height: 900 })

  if (errors.length) fail(`browser errors: ${errors.join(' | ')}`)
  console.log(JSON.stringify({ ok: true, order: orderTitle, timings, visited }, null, 2))
} catch (error) {
  code = 1
  console.error(String(error?.stack ?? error))
  try {
    const pages = browser.contexts().flatMap((c) => c.pages())
    if (pages[0]) await pages[0].screenshot({ path: join(shots, 'failure.png'), fullPage: true })
  } catch {}
} finally {
  await browser.close()
}
process.exit(code)
