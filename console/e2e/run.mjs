// Browser walk of the console on the real local stack, through the UI only (Debian's chromium driven
// by playwright-core; never a downloaded browser). Started by tests/console/test_console_browser.py,
// which brings up the stack (DynamoDB Local in memory, chalice local, the worker, the console server)
// and passes CONSOLE_URL. Exit code 0 = every step passed; screenshots go to e2e/screenshots/ (ignored).
//
// One order from intake to the manager's dashboard, each role in the language WALK names (the test runs
// it twice, languages swapped, so every role works in zh-CN and in en):
//   the service desk creates a customer, the customer's installed product (its warranty shown when the
//   order picks it) and a work order with a fault photo; the supervisor edits what Review allows and
//   dispatches with the explanation visible, finds it on the board, previews a batch dispatch; the
//   engineer accepts, checks in where the site is, draws a part from the van, writes the report, has the
//   customer sign and completes; (walk "b": the desk notes a rating given by phone;) the customer opens
//   the survey mail in the local mail inbox and answers it, which closes the order; the manager sees the
//   dashboard's numbers change and drills down to the order. Every page visited passes axe-core with no
//   serious or critical violation. A second app installed in the tenant (SECOND_APP_TITLE) shows in the menu.
import { accessible as axeCheck, fail, labels, walk as walkThrough, words } from './lib.mjs'

const base = process.env.CONSOLE_URL ?? 'http://127.0.0.1:8003'
const secondAppForm = process.env.SECOND_APP_TITLE // a form of a small second app, installed by the test
const walk = process.env.WALK ?? 'a'
// who works in which language: walk "b" swaps every role's language
const LANGUAGES = {
  a: { desk: 'en', supervisor: 'zh-CN', engineer: 'zh-CN', customer: 'en', manager: 'zh-CN' },
  b: { desk: 'zh-CN', supervisor: 'en', engineer: 'en', customer: 'zh-CN', manager: 'en' },
}[walk]
if (!LANGUAGES) fail(`WALK must be a or b, not ${walk}`)
const CUSTOMER = { a: { name: 'Harbour Hotel', email: 'front.desk@harbour-hotel.example', serial: 'CH-2024-0001', rating: '5' },
  b: { name: '海港酒店', email: 'service@haigang-hotel.example', serial: 'CH-2024-0002', rating: '4' } }[walk]
const timings = {}
// a 2×2 PNG
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP8z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg==', 'base64')
const visited = []
const summary = { ok: false, walk, languages: LANGUAGES, timings, visited }

const accessible = (page, name) => axeCheck(page, `${walk}-${name}`, visited)
const short = (language) => (language === 'en' ? 'en' : 'zh')

async function signIn(page, language, who) {
  const w = words(language)
  await page.goto(`${base}/login`)
  await page.getByRole('combobox', { name: /Language|语言/ }).selectOption(language)
  await page.getByRole('button', { name: new RegExp(who) }).waitFor()
  await accessible(page, `login-${short(language)}`)
  const started = Date.now()
  await page.getByRole('button', { name: new RegExp(who) }).click()
  await page.getByRole('heading', { name: w.inbox }).waitFor()
  await page.locator('table.grid, main p').first().waitFor()
  timings[`inbox_after_sign_in_ms_${short(language)}_${who.split(' ')[0].toLowerCase()}`] = Date.now() - started
  return { ...w, d: labels(language) } // the console's words and the app's labels
}

/** Save the open edit form; if the platform changed the record meanwhile (a version conflict — the
 *  page reloads the record and keeps the edits), save again, as a person would. */
async function saveEdits(page, w) {
  for (let attempt = 0; attempt < 3; attempt++) {
    await page.getByRole('button', { name: w.save, exact: true }).click()
    const done = page.getByRole('button', { name: w.edit, exact: true })
    const conflict = page.getByRole('alert').filter({ hasText: w.conflict.slice(0, 8) })
    await done.or(conflict).first().waitFor()
    if (await done.isVisible()) return
    await page.waitForLoadState('networkidle')
  }
  fail('the edits could not be saved')
}

async function signOut(page, w) {
  await page.getByRole('button', { name: w.signOut }).click()
  await page.waitForURL(/\/login$/)
}

const menuOf = (page, w) => page.getByRole('navigation', { name: w.forms })
/** The record page's state, by the state's name (the page shows its label in the reader's language). */
const stateOf = (page, name) => page.locator(`[data-testid="state"][data-state="${name}"]`)
const column = (page, name) => page.locator(`section.column[data-state="${name}"]`)
const optionLabel = async (select, text) => select.locator('option', { hasText: text }).first().innerText()

/** The manager's view of the numbers: orders in North/Closed and the survey ratings in the data tables. */
async function dashboardNumbers(page, w) {
  await page.getByRole('navigation').getByRole('link', { name: w.d.dashboard('service_overview') }).click()
  await page.getByRole('heading', { level: 1, name: w.d.dashboard('service_overview') }).waitFor()
  const byRegion = page.getByRole('figure', { name: w.d.chart('service_overview', 'orders_by_region') })
  await byRegion.locator('.chart-canvas svg, p.no-data').first().waitFor({ timeout: 15_000 })
  if (await byRegion.locator('details summary').count()) await byRegion.locator('details summary').click()
  const closed = byRegion.getByRole('row').filter({ hasText: w.d.option('work_order', 'region', 'north') }).filter({ hasText: w.d.state('Closed') })
  const closedNorth = (await closed.count()) ? Number(await closed.locator('td.num').first().innerText()) : 0
  const satisfaction = page.getByRole('figure', { name: w.d.chart('service_overview', 'satisfaction') })
  await satisfaction.locator('.chart-canvas svg, p.no-data').first().waitFor({ timeout: 15_000 })
  const ratings = (await satisfaction.locator('p.no-data').count()) ? 0
    : await (async () => {
      await satisfaction.locator('details summary').click()
      const cells = await satisfaction.getByRole('row').locator('td.num').allInnerTexts()
      return cells.length ? Number(cells[1]) : 0 // rating, answers, low, low share
    })()
  return { closedNorth, ratings, w }
}

await walkThrough(walk, summary, async (browser) => {
  // the browser's position is the service site (the engineer checks in where the order's map pin is)
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 900 },
    geolocation: { latitude: 31.2304, longitude: 121.4737, accuracy: 10 }, permissions: ['geolocation'] })
  // a shared CI machine runs this beside the other tests: give a step a minute before calling it failed
  context.setDefaultTimeout(60_000)
  const page = await context.newPage()
  const errors = []
  page.on('pageerror', (e) => errors.push(String(e)))
  page.on('console', (m) => { if (m.type() === 'error' && !/status of 4\d\d|Form validation failed/.test(m.text())) errors.push(m.text()) })

  // --- the manager's numbers before ------------------------------------------------------------
  let w = await signIn(page, LANGUAGES.manager, 'Zhao Min')
  const before = await dashboardNumbers(page, w)
  summary.before = { closed_north: before.closedNorth, ratings: before.ratings }
  await signOut(page, w)

  // --- the service desk ------------------------------------------------------------------------
  w = await signIn(page, LANGUAGES.desk, 'Li Na')
  const desk = short(LANGUAGES.desk)
  await accessible(page, `inbox-desk-${desk}`)
  const menu = menuOf(page, w)
  await menu.getByRole('link', { name: w.d.form('work_order') }).waitFor()
  if (secondAppForm) await menu.getByRole('link', { name: secondAppForm }).waitFor() // a second app, no console change

  await menu.getByRole('link', { name: w.d.form('customer'), exact: true }).click()
  await page.getByRole('heading', { name: w.d.form('customer') }).waitFor()
  await accessible(page, `list-customers-${desk}`)
  await page.getByRole('link', { name: w.newRecord }).click()
  await page.locator('#root_name').fill(CUSTOMER.name)
  await page.locator('#root_phone').fill('13800138000')
  await page.locator('#root_email').fill(CUSTOMER.email)
  await page.locator('#root_region').selectOption({ label: w.d.option('customer', 'region', 'north') })
  await page.locator('#root_language').selectOption({ label: w.d.option('customer', 'language', LANGUAGES.customer) })
  await accessible(page, `new-customer-${desk}`)
  await page.getByRole('button', { name: w.create }).click()
  await page.getByRole('heading', { name: `${w.d.form('customer')} · ${CUSTOMER.name}` }).waitFor()

  // the customer's installed product: the order picks it and shows its warranty
  await menu.getByRole('link', { name: w.d.form('product') }).click()
  await page.getByRole('link', { name: w.newRecord }).click()
  await page.locator('#root_serial_number').fill(CUSTOMER.serial)
  await page.locator('#root_model').fill('Chiller 30XA')
  await page.locator('#root_product_line').selectOption({ label: w.d.option('product', 'product_line', 'hvac') })
  await page.locator('#root_customer option', { hasText: CUSTOMER.name }).first().waitFor({ state: 'attached' })
  await page.locator('#root_customer').selectOption({ label: await optionLabel(page.locator('#root_customer'), CUSTOMER.name) })
  await page.locator('#root_warranty_end').fill('2030-06-30')
  await page.getByRole('button', { name: w.create }).click()
  await page.getByRole('heading', { name: `${w.d.form('product')} · ${CUSTOMER.serial}` }).waitFor()

  await menu.getByRole('link', { name: w.d.form('work_order') }).click()
  await page.getByRole('heading', { name: w.d.form('work_order') }).waitFor()
  await page.getByRole('link', { name: w.newRecord }).click()
  await page.locator('#root_customer option', { hasText: CUSTOMER.name }).first().waitFor({ state: 'attached' })
  await page.locator('#root_customer').selectOption({ label: await optionLabel(page.locator('#root_customer'), CUSTOMER.name) })
  // the product picker offers the chosen customer's products; the picked one shows its warranty
  await page.locator('.lookup:has(#root_product) [data-narrowed-by="customer"]').waitFor()
  await page.locator('#root_product option', { hasText: CUSTOMER.serial }).first().waitFor({ state: 'attached' })
  await page.waitForLoadState('networkidle')
  const offered = await page.locator('#root_product option').allInnerTexts()
  if (offered.some((o) => o.startsWith('CH-') && !o.includes(CUSTOMER.serial))) fail(`another customer's product is offered: ${offered}`)
  await page.locator('#root_product').selectOption({ label: await optionLabel(page.locator('#root_product'), CUSTOMER.serial) })
  const card = page.getByRole('definition').filter({ hasText: '2030-06-30' })
  await card.waitFor()
  const inWarranty = await page.locator('.lookup-card dd[data-field="in_warranty"]').innerText()
  if (inWarranty !== '✓') fail(`the product's warranty shows ${inWarranty}`)
  await page.locator('#root_region').selectOption({ label: w.d.option('work_order', 'region', 'north') })
  // conditions apply live, in the browser, with the server's expression language
  if (await page.locator('#root_repair_quote').count()) fail('repair quote shown before the order is out of warranty')
  await page.locator('#root_warranty_status').selectOption({ label: w.d.option('work_order', 'warranty_status', 'out_of_warranty') })
  await page.locator('#root_repair_quote').waitFor()
  await page.locator('#root_warranty_status').selectOption({ label: w.d.option('work_order', 'warranty_status', 'in_warranty') })
  await page.locator('#root_repair_quote').waitFor({ state: 'detached' })
  await page.locator('#root_service_address').fill('1 Harbour Road')
  await accessible(page, `new-order-${desk}`)
  // a server 422 appears at its field: submit without the required fault description first
  await page.getByRole('button', { name: w.create }).click()
  await page.locator('#root_fault_description').waitFor()
  await page.locator('.form-group:has(#root_fault_description) .text-danger, #root_fault_description__error').first().waitFor()
  await accessible(page, `new-order-errors-${desk}`)
  await page.locator('#root_fault_description').fill('The chiller is noisy and warm')
  await page.getByRole('button', { name: w.create }).click()
  await page.getByRole('heading', { name: new RegExp(`${w.d.form('work_order')} · WO-`) }).waitFor()
  const state = await page.getByTestId('state').getAttribute('data-state')
  if (state !== 'Review') fail(`new order is in ${state}, not Review`)
  const stateShown = await page.getByTestId('state').innerText()
  if (stateShown !== w.d.state('Review')) fail(`the state reads ${stateShown}, not ${w.d.state('Review')}`)
  await page.getByRole('list', { name: w.deadlines }).getByText(w.d.deadline('response')).waitFor() // the SLA clock
  const orderTitle = (await page.getByRole('heading', { level: 1 }).innerText()).split('·')[1].trim()
  summary.order = orderTitle
  // a photo of the fault, through the presigned flow (declare → POST to the file store → confirm)
  await page.getByLabel(w.uploadTo.replace('{{field}}', w.d.field('work_order', 'fault_photos'))).setInputFiles({ name: 'fault.png', mimeType: 'image/png', buffer: PNG })
  await page.locator('img.thumb[alt="fault.png"]').waitFor()
  const shown = await page.locator('img.thumb[alt="fault.png"]').evaluate((img) => img.complete && img.naturalWidth > 0)
  if (!shown) fail('the uploaded photo does not display')
  await accessible(page, `order-review-desk-${desk}`)
  // the list names the customer (titles come with the page), not its id
  await menu.getByRole('link', { name: w.d.form('work_order') }).click()
  await page.getByRole('row').filter({ hasText: orderTitle }).getByRole('cell', { name: CUSTOMER.name }).waitFor()
  await accessible(page, `list-orders-desk-${desk}`)
  await signOut(page, w)

  // --- the supervisor ------------------------------------------------------------------------------
  w = await signIn(page, LANGUAGES.supervisor, 'Wang Wei')
  const sup = short(LANGUAGES.supervisor)
  await accessible(page, `inbox-supervisor-${sup}`)
  await page.getByRole('link', { name: orderTitle }).first().click()
  await page.getByRole('heading', { name: new RegExp(orderTitle) }).waitFor()
  await page.getByText(w.fieldsYouMayEdit.split('{{')[0].trim()).first().waitFor()
  await accessible(page, `order-review-supervisor-${sup}`)
  await page.getByText(w.showDiagram).click()
  await page.getByRole('figure', { name: w.workflowDiagram }).locator('.react-flow__node.wf-current').filter({ hasText: w.d.state('Review') }).waitFor()
  await accessible(page, `order-diagram-supervisor-${sup}`)
  // edit what the Review state allows (the priority), then dispatch with the explanation visible
  await page.getByRole('button', { name: w.edit, exact: true }).click()
  await page.locator('#root_priority').selectOption({ label: w.d.option('work_order', 'priority', 'high') })
  await accessible(page, `order-edit-supervisor-${sup}`)
  await saveEdits(page, w)
  await page.getByRole('heading', { name: new RegExp(w.dispatch) }).waitFor()
  await page.getByRole('columnheader', { name: w.whyThisEngineer }).waitFor()
  // each candidate's score parts ("why this engineer"), once the ranking has loaded
  await page.locator('table.grid .parts li').nth(1).waitFor().catch(() => fail('the dispatch candidates show no score parts'))
  await accessible(page, `order-dispatch-supervisor-${sup}`)
  await page.getByRole('button', { name: new RegExp(`${w.assign} Zhang San`) }).click()
  await stateOf(page, 'AwaitAcceptance').waitFor()
  // the board shows it in its new column, headed by the state's label
  await page.getByRole('navigation').getByRole('link', { name: w.d.form('work_order') }).click()
  await page.getByRole('link', { name: w.board }).click()
  await page.getByRole('region', { name: w.d.state('AwaitAcceptance') }).getByRole('link', { name: orderTitle }).waitFor()
  await accessible(page, `board-supervisor-${sup}`)
  await column(page, 'AwaitAcceptance').getByRole('link', { name: orderTitle }).click()
  await page.getByRole('heading', { name: w.history }).waitFor()
  await accessible(page, `order-assigned-supervisor-${sup}`)
  // batch dispatch of the backlog: a preview first, nothing written
  await page.getByRole('navigation').getByRole('link', { name: w.d.form('work_order') }).click()
  await page.getByRole('link', { name: w.board }).click()
  await page.getByRole('link', { name: w.batchDispatch }).click()
  await page.getByRole('combobox', { name: w.d.field('work_order', 'region') }).selectOption({ label: w.d.option('work_order', 'region', 'north') })
  await page.getByRole('button', { name: w.previewPlan }).click()
  await page.getByRole('status').filter({ hasText: w.planPreview }).waitFor()
  await accessible(page, `batch-dispatch-preview-supervisor-${sup}`)
  await signOut(page, w)

  // --- the engineer sees it waiting, and was told -------------------------------------------------
  w = await signIn(page, LANGUAGES.engineer, 'Zhang San')
  const eng = short(LANGUAGES.engineer)
  await page.getByRole('link', { name: orderTitle }).first().waitFor()
  await accessible(page, `inbox-engineer-${eng}`)
  await page.getByRole('link', { name: new RegExp(`^${w.notifications}`) }).click()
  await page.getByRole('heading', { name: w.notifications }).waitFor()
  await page.locator('.notes li').first().waitFor()
  await accessible(page, `notifications-engineer-${eng}`)
  // accept, check in where the site is, draw a part from the van, report, signature, complete
  await page.locator('.notes li a', { hasText: orderTitle }).first().click()
  await page.getByRole('heading', { name: new RegExp(orderTitle) }).waitFor()
  await page.getByRole('button', { name: w.d.action('accept') }).click()
  await stateOf(page, 'Travelling').waitFor()
  await page.getByRole('button', { name: w.checkIn }).click()
  await stateOf(page, 'OnSite').waitFor()
  await accessible(page, `order-onsite-engineer-${eng}`)
  await page.getByRole('combobox', { name: w.part }).selectOption({ label: 'Expansion valve (VLV-1)' })
  await page.getByRole('spinbutton', { name: w.quantity }).fill('2')
  await page.getByRole('button', { name: w.drawPart }).click()
  await page.getByRole('table', { name: w.d.field('work_order', 'parts_used') }).getByRole('link', { name: /Expansion valve/ }).waitFor()
  await page.getByRole('button', { name: w.edit, exact: true }).click()
  await page.locator('#root_service_report').fill('Replaced the expansion valve; the chiller runs quietly.')
  await saveEdits(page, w)
  const pad = page.locator('canvas.signature-pad')
  await page.waitForLoadState('networkidle') // the page settles (refreshed record, history) before the pen moves
  await pad.scrollIntoViewIfNeeded()
  const box = await pad.boundingBox()
  await page.mouse.move(box.x + 20, box.y + box.height / 2)
  await page.mouse.down()
  for (let i = 1; i <= 12; i++) await page.mouse.move(box.x + 20 + i * 18, box.y + box.height / 2 + (i % 2 ? -25 : 25))
  await page.mouse.up()
  await page.getByRole('button', { name: w.saveSignature }).click()
  await page.locator('img.thumb[alt="signature.png"]').waitFor()
  await accessible(page, `order-signed-engineer-${eng}`)
  await page.getByRole('button', { name: w.d.action('complete') }).click()
  await stateOf(page, 'CustomerFeedback').waitFor()
  await accessible(page, `order-completed-engineer-${eng}`)
  // the printable service report in the engineer's language: the signature embedded (no expiring
  // link), a Total row for the parts' line totals only; then printed from the script-less frame
  const [reportTab] = await Promise.all([page.context().waitForEvent('page'),
    page.getByRole('button', { name: w.serviceReport }).click()])
  await reportTab.locator('h1').waitFor()
  const reportLanguage = await reportTab.evaluate(() => document.documentElement.lang)
  if (!reportLanguage.startsWith(short(LANGUAGES.engineer))) fail(`the service report is in ${reportLanguage}`)
  if (!(await reportTab.locator('img[src^="data:image/png"]').count())) fail('the report does not embed the signature')
  const totals = await reportTab.locator('tr.total').allTextContents()
  if (!totals.length || !totals.every((row) => /Total|合计/.test(row))) fail(`the report's total rows: ${JSON.stringify(totals)}`)
  await reportTab.close()
  await page.evaluate(() => { // the frame may be gone again at once (afterprint): note it as it is added
    new MutationObserver((changes) => changes.forEach((change) => change.addedNodes.forEach((node) => {
      if (node.tagName === 'IFRAME') window.__printFrame = { sandbox: node.getAttribute('sandbox'), html: node.srcdoc.length }
    }))).observe(document.body, { childList: true })
  })
  await page.getByRole('button', { name: w.printReport }).click()
  const printed = await (await page.waitForFunction(() => window.__printFrame)).jsonValue()
  if (printed.sandbox.includes('allow-scripts') || printed.html < 500) fail(`the print frame: ${JSON.stringify(printed)}`)
  if (await page.getByRole('alert').count()) fail(`printing the report: ${await page.getByRole('alert').first().textContent()}`)
  await signOut(page, w)

  if (walk === 'b') {
    // --- the desk notes the rating the customer gave on the phone (the survey's answer will win) ---
    w = await signIn(page, LANGUAGES.desk, 'Li Na')
    await page.getByRole('link', { name: orderTitle }).first().click()
    await stateOf(page, 'CustomerFeedback').waitFor()
    await page.getByRole('button', { name: w.edit, exact: true }).click()
    await page.getByRole('radiogroup').locator('label.star').nth(2).click()
    if (!(await page.getByRole('radio', { name: '3 / 5' }).isChecked())) fail('the third star is not set')
    await accessible(page, `order-feedback-desk-${short(LANGUAGES.desk)}`)
    await saveEdits(page, w)
    await signOut(page, w)
  }

  // --- the customer: the survey mail arrives (local mail inbox), its link answers ------------------
  await page.goto(`${base}/login`)
  await page.getByRole('combobox', { name: /Language|语言/ }).selectOption(LANGUAGES.customer)
  await page.getByRole('link', { name: words(LANGUAGES.customer).localMail }).click()
  const mail = page.getByRole('row').filter({ hasText: CUSTOMER.email })
  for (let i = 0; i < 60 && !(await mail.count()); i++) { // the worker drains the outbox every few seconds
    await page.waitForTimeout(1000)
    await page.reload()
  }
  if (!(await mail.count())) fail(`no survey mail to ${CUSTOMER.email} arrived`)
  await accessible(page, `local-mail-${short(LANGUAGES.customer)}`)
  await mail.getByRole('link').first().click()
  await page.getByRole('heading', { level: 1 }).waitFor()
  await accessible(page, `survey-mail-${short(LANGUAGES.customer)}`)
  await page.getByRole('link', { name: /\/surveys\/[^/]+(\?|$)/ }).first().click()
  await page.locator('form[method="post"]').waitFor()
  const surveyLanguage = await page.evaluate(() => document.documentElement.lang)
  if (!surveyLanguage.startsWith(short(LANGUAGES.customer))) fail(`the survey page is in ${surveyLanguage}, not the customer's ${LANGUAGES.customer}`)
  await accessible(page, `survey-${short(LANGUAGES.customer)}`)
  await page.locator(`input[name="rating"][value="${CUSTOMER.rating}"]`).check()
  await page.locator('input[name="nps"][value="9"]').check()
  await page.locator('input[name="problem_solved"][value="yes"]').check()
  await page.locator('textarea[name="comment"]').fill(walk === 'a' ? 'Quick and tidy work.' : '师傅很专业。')
  await page.locator('form[method="post"] button[type="submit"]').click()
  await page.locator('form[method="post"]').waitFor({ state: 'detached' })
  await accessible(page, `survey-thanks-${short(LANGUAGES.customer)}`)

  // --- the manager sees the numbers change and drills down to the order --------------------------
  w = await signIn(page, LANGUAGES.manager, 'Zhao Min')
  let after = await dashboardNumbers(page, w)
  for (let i = 0; i < 30 && (after.closedNorth <= before.closedNorth || after.ratings <= before.ratings); i++) {
    await page.waitForTimeout(1000) // the reports follow the records' stream
    await page.reload()
    after = await dashboardNumbers(page, w)
  }
  summary.after = { closed_north: after.closedNorth, ratings: after.ratings }
  if (after.closedNorth !== before.closedNorth + 1) fail(`North/Closed went from ${before.closedNorth} to ${after.closedNorth}`)
  if (after.ratings !== before.ratings + 1) fail(`the month's ratings went from ${before.ratings} to ${after.ratings}`)
  const mgr = short(LANGUAGES.manager)
  await accessible(page, `dashboard-after-${mgr}`)
  const byRegion = page.getByRole('figure', { name: w.d.chart('service_overview', 'orders_by_region') })
  await byRegion.getByRole('row').filter({ hasText: w.d.state('Closed') }).getByRole('link', { name: w.d.option('work_order', 'region', 'north') }).click()
  await page.waitForURL(/\/forms\/work_order\?filter\.region=north/)
  await page.getByRole('link', { name: orderTitle }).click()
  await stateOf(page, 'Closed').waitFor()
  // the survey's answer is the order's satisfaction (walk b: it wins over the rating taken by phone)
  const satisfaction = await page.locator('dl.fields > div', { has: page.locator('dt', { hasText: new RegExp(`^${w.d.field('work_order', 'satisfaction_rating')}$`) }) }).locator('dd').innerText()
  if (satisfaction !== CUSTOMER.rating) fail(`the order's satisfaction is ${satisfaction}, not the survey's ${CUSTOMER.rating}`)
  await accessible(page, `order-closed-manager-${mgr}`)
  await signOut(page, w)

  // --- phone width: the same pages laid out for a narrow screen ---------------------------------
  await page.setViewportSize({ width: 390, height: 844 })
  const phone = LANGUAGES.desk
  w = await signIn(page, phone, 'Li Na')
  await accessible(page, `phone-inbox-${short(phone)}`)
  await menuOf(page, w).getByRole('link', { name: w.d.form('work_order') }).click()
  await page.getByRole('link', { name: orderTitle }).first().click()
  await page.getByRole('heading', { name: new RegExp(orderTitle) }).waitFor()
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
  if (overflow > 2) fail(`the record page is ${overflow}px wider than a phone (${phone})`)
  await accessible(page, `phone-order-${short(phone)}`)
  await signOut(page, w)
  await page.setViewportSize({ width: 1280, height: 900 })

  if (errors.length) fail(`browser errors: ${errors.join(' | ')}`)
})
