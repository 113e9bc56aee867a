// Browser walk of the report and dashboard designers on the real local stack (Debian's chromium,
// playwright-core), started by tests/console/test_console_report_designer.py with CONSOLE_URL after it
// made a few work orders. The admin builds a new report "orders_by_priority" on work_order (dimension
// priority, measure count), sees the live preview's table count the orders and its chart drawn, is told
// at the control what the server refuses (the scope the supervisors' row rule needs, then a misspelt
// field), fixes it, saves; the designer in zh-CN once; then a new dashboard "ops" with a bar chart of the
// report placed on the grid by its inputs and keyboard buttons, saved; then /dashboards/ops draws it.
// axe-clean; screenshots to e2e/screenshots/. Exit code 0 = every step passed.
import { accessible as axeCheck, fail, signIn, walk } from './lib.mjs'

const base = process.env.CONSOLE_URL ?? 'http://127.0.0.1:8003'
const visited = []
const accessible = (page, name) => axeCheck(page, name, visited)
const TITLE = 'Orders by priority'

const summary = { ok: false, visited }
await walk('report_designer', summary, async (browser) => {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1400, height: 1000 } })
  const page = await context.newPage()
  page.setDefaultTimeout(45_000) // a shared CI machine runs this beside other tests
  const errors = []
  page.on('pageerror', (e) => errors.push(String(e)))
  await signIn(page, base, 'Ada Admin')

  // --- the report ---------------------------------------------------------------------------------------
  await page.goto(`${base}/admin/definitions`)
  await page.getByRole('link', { name: 'New report' }).click()
  await page.getByRole('heading', { name: 'Report designer: new' }).waitFor()
  await page.getByLabel('Name', { exact: true }).fill('orders_by_priority')
  await page.getByLabel('Form', { exact: true }).selectOption('work_order')
  await page.getByLabel('Title (English)').fill(TITLE)
  await page.getByLabel('Title (Chinese)').fill('按优先级统计工单')
  await page.getByLabel('Field', { exact: true }).selectOption('priority')
  await page.getByRole('button', { name: 'Add dimension' }).click()
  await page.getByLabel('Label of dimension 1 (English)').fill('Priority')
  await page.getByLabel('Label of dimension 1 (Chinese)').fill('优先级')
  await page.getByLabel('Name of measure 1').fill('orders')
  await page.getByLabel('Label of measure 1 (English)').fill('Orders')
  await page.getByLabel('Label of measure 1 (Chinese)').fill('工单数')

  // the server refuses a report the supervisors' row rule (their region) cannot be applied to: at the scope
  const scope = page.getByLabel(/^Scope fields/)
  await page.locator('#rd-scope-problem').waitFor()
  summary.scope_problem = await page.locator('#rd-scope-problem').innerText()
  if ((await scope.getAttribute('aria-invalid')) !== 'true') fail('the scope is not marked invalid')
  await scope.fill('region')
  await page.locator('#rd-scope-problem').waitFor({ state: 'detached' })

  const bound = page.getByTestId('bound')
  await bound.filter({ hasText: /Computed over all \d+ records/ }).waitFor()
  const rows = page.getByRole('table', { name: `Rows of ${TITLE}` }).locator('tbody tr')
  await rows.first().waitFor()
  await page.locator('.rd-figure svg').first().waitFor()
  summary.bound = await bound.innerText()
  summary.preview = {}
  for (const row of await rows.all()) {
    const cells = await row.locator('td').allInnerTexts()
    summary.preview[cells[0].trim()] = Number(cells[1].replace(/[^\d.]/g, ''))
  }
  await accessible(page, 'report-designer-en')

  // a misspelt field: refused, and said at that dimension's field
  const field = page.getByLabel('Field of dimension 1')
  await field.fill('priorty')
  const problem = page.locator(`#${await field.getAttribute('id')}-problem`)
  await problem.waitFor()
  summary.field_problem = await problem.innerText()
  if (!/priorty/.test(summary.field_problem)) fail(`the field's problem: ${summary.field_problem}`)
  if ((await field.getAttribute('aria-invalid')) !== 'true') fail('the field is not marked invalid')
  await accessible(page, 'report-designer-problem-en')
  await field.fill('priority')
  await problem.waitFor({ state: 'detached' })
  await rows.first().waitFor()

  await page.getByRole('button', { name: 'Save and publish' }).click()
  await page.getByRole('status').filter({ hasText: 'Saved as version 1 and published.' }).waitFor()
  await page.getByRole('heading', { name: 'Report designer: orders_by_priority' }).waitFor()

  // the same designer in zh-CN
  await page.getByRole('combobox', { name: /Language|语言/ }).selectOption('zh-CN')
  await page.getByRole('heading', { name: '报表设计器：orders_by_priority' }).waitFor()
  await page.getByTestId('bound').filter({ hasText: /基于表单的全部/ }).waitFor()
  await accessible(page, 'report-designer-zh')
  await page.getByRole('combobox', { name: /Language|语言/ }).selectOption('en')
  await page.getByRole('heading', { name: 'Report designer: orders_by_priority' }).waitFor()

  // --- the dashboard ------------------------------------------------------------------------------------
  await page.goto(`${base}/admin/definitions`)
  await page.getByRole('link', { name: 'Design orders_by_priority' }).click()  // the stored report opens in its designer
  await page.getByRole('heading', { name: 'Report designer: orders_by_priority' }).waitFor()
  if (await page.getByLabel('Field of dimension 1').inputValue() !== 'priority') fail('the stored report did not load')
  await page.getByTestId('bound').filter({ hasText: /Computed over all \d+ records/ }).waitFor()
  await page.goto(`${base}/admin/definitions`)
  await page.getByRole('link', { name: 'New dashboard' }).click()
  await page.getByRole('heading', { name: 'Dashboard designer: new' }).waitFor()
  await page.getByLabel('Name', { exact: true }).fill('ops')
  await page.getByLabel('Title (English)').fill('Operations')
  await page.getByLabel('Title (Chinese)').fill('运营')
  // a new dashboard is on 12 columns, as the shipped ones; this one on the finer grid of 24
  if (await page.getByLabel('Grid columns').inputValue() !== '12') fail('a new dashboard is not on 12 columns')
  await page.getByLabel('Grid columns').selectOption('24')
  await page.getByLabel('Report', { exact: true }).selectOption('orders_by_priority')
  await page.getByRole('button', { name: 'Add chart' }).click()
  await page.getByLabel('Title of chart 1 (English)').fill(TITLE)
  await page.getByLabel('Title of chart 1 (Chinese)').fill('按优先级统计工单')
  if (await page.getByLabel(`Type of ${TITLE}`).inputValue() !== 'bar') fail('the new chart is not a bar chart')
  if (await page.getByLabel(`X of ${TITLE}`).inputValue() !== 'priority') fail('x is not the report\'s dimension')
  await page.getByLabel(`Width (w) of ${TITLE}`).fill('14')
  await page.getByRole('button', { name: `Move ${TITLE} right` }).click()
  await page.getByRole('button', { name: `Move ${TITLE} right` }).click()
  await page.getByRole('button', { name: `Make ${TITLE} taller` }).click()
  // dragged by its handle two columns right, then back by the keyboard buttons
  const column = (await page.locator('.dd-grid').boundingBox()).width / 24
  const handle = await page.locator('.dd-drag').first().boundingBox()
  await page.mouse.move(handle.x + handle.width / 2, handle.y + handle.height / 2)
  await page.mouse.down()
  await page.mouse.move(handle.x + handle.width / 2 + column, handle.y + handle.height / 2, { steps: 3 })
  await page.mouse.move(handle.x + handle.width / 2 + 2 * column, handle.y + handle.height / 2 + 5, { steps: 3 })
  await page.mouse.up()
  summary.dragged_to = Number(await page.getByLabel(`Column (x) of ${TITLE}`).inputValue())
  if (summary.dragged_to !== 4) fail(`dragged to column ${summary.dragged_to}`)
  await page.getByRole('button', { name: `Move ${TITLE} left` }).click()
  await page.getByRole('button', { name: `Move ${TITLE} left` }).click()
  summary.layout = {}
  for (const k of ['x', 'y', 'w', 'h']) summary.layout[k] = Number(await page.getByLabel(new RegExp(`^\\w+ \\(${k}\\) of ${TITLE}$`)).inputValue())
  const cell = page.getByRole('region', { name: `Chart ${TITLE} on the grid` })
  await cell.locator('svg').first().waitFor()
  await accessible(page, 'dashboard-designer-en')
  await page.getByRole('button', { name: 'Save and publish' }).click()
  await page.getByRole('status').filter({ hasText: 'Saved as version 1 and published.' }).waitFor()

  // --- the console's own dashboard page -----------------------------------------------------------------
  await page.goto(`${base}/dashboards/ops`)
  await page.getByRole('heading', { name: 'Operations', level: 1 }).waitFor()
  const figure = page.getByRole('figure', { name: TITLE })
  await figure.waitFor()
  for (let i = 0; !(await figure.locator('.chart-canvas svg').count()); i++) {  // until the report's backfill is done
    if (i >= 20) fail('the dashboard never drew the chart')
    await page.waitForTimeout(1500)
    await page.reload()
    await figure.waitFor()
  }
  // drawn where the designer placed it: 14 of the grid's 24 columns wide, from column 2
  const grid = await page.locator('.dash-grid').boundingBox()
  const drawn = await figure.boundingBox()
  summary.drawn = { width: drawn.width / grid.width, left: (drawn.x - grid.x) / grid.width }
  await accessible(page, 'dashboard-ops-en')
  if (errors.length) fail(`page errors: ${errors.join(' | ')}`)
})
