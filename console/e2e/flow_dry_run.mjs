// Browser walk of the workflow designer's dry run on the real local stack (Debian's chromium,
// playwright-core), started by tests/console/test_console_flow_dry_run.py with CONSOLE_URL and the
// shipped work order it made (ORDER_ID, ORDER_NUMBER; in Review, assigned to sup.north). As the admin:
// Design work_order; in the Dry run panel the order is found by its number, `auto_dispatch` chosen (taken
// by sup.north, the order's assignee, suggested) and run: the path Review → AutoDispatch → Awaiting
// acceptance, the task for eng.zhang and the engineer it would set are shown; `assign` without an
// engineer shows the problem at the Assigned engineer field; the draft then sends automatic dispatch to
// ManualDispatch (set in the keyboard table) and the same dry run follows the draft. zh-CN too; axe-clean.
// Nothing is saved: the test then checks through the API that the order and the workflow are unchanged.
import { accessible as axeCheck, fail, labels, signIn, walk, words } from './lib.mjs'

const base = process.env.CONSOLE_URL ?? 'http://127.0.0.1:8003'
const orderId = process.env.ORDER_ID ?? fail('ORDER_ID is required')
const orderNumber = process.env.ORDER_NUMBER ?? fail('ORDER_NUMBER is required')
const visited = []
const accessible = (page, name) => axeCheck(page, name, visited)
const summary = { ok: false, visited }
const en = words('en').flowDryRun
const zh = words('zh-CN').flowDryRun
const fill = (text, values) => Object.entries(values).reduce((s, [k, v]) => s.replaceAll(`{{${k}}}`, v), text)

await walk('flow_dry_run', summary, async (browser) => {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1440, height: 1000 } })
  const page = await context.newPage()
  const errors = []
  page.on('pageerror', (e) => errors.push(String(e)))
  await signIn(page, base, 'Ada Admin')
  await page.goto(`${base}/admin/definitions`)
  await page.getByRole('link', { name: 'Design workflow work_order' }).click()
  await page.getByRole('heading', { name: 'Workflow designer: work_order' }).waitFor()
  const status = page.locator('.wf-designer > p[role=status]')
  await status.getByText("The server's checks find no problem").waitFor({ timeout: 45_000 })

  const panel = page.getByRole('region', { name: en.title })
  await panel.scrollIntoViewIfNeeded()
  // the order, found among the recent records by its number
  await panel.getByLabel(en.find).fill(orderNumber)
  const record = panel.getByLabel(en.record, { exact: true })
  await record.locator(`option[value="${orderId}"]`).waitFor({ state: 'attached', timeout: 30_000 })
  summary.options = await record.locator('option').count() // the prompt and the order
  if (summary.options !== 2) fail(`records matching ${orderNumber}: ${summary.options - 1}`)
  await record.selectOption(orderId)
  const action = panel.getByLabel(fill(en.action, { state: 'Review' }))
  await action.selectOption('auto_dispatch')
  const actor = panel.getByLabel(en.actor)
  summary.actor = await actor.inputValue()
  if (summary.actor !== 'sup.north') fail(`the suggested actor: ${summary.actor}`)
  await panel.getByRole('button', { name: en.run }).click()
  const said = panel.getByRole('status')
  await said.getByText(fill(en.allowed, { state: 'AwaitAcceptance' })).waitFor({ timeout: 30_000 })
  const steps = panel.getByRole('list', { name: en.path }).getByTestId('dry-step')
  summary.path = await steps.allInnerTexts()
  if (summary.path.length !== 3 || !/^Review/.test(summary.path[0]) || !/AutoDispatch/.test(summary.path[1])
      || !/Awaiting acceptance \(AwaitAcceptance\)/.test(summary.path[2])) fail(`the path: ${summary.path.join(' | ')}`)
  summary.end = await panel.getByTestId('dry-end').innerText()
  summary.tasks = await panel.getByTestId('dry-task').allInnerTexts()
  if (!summary.tasks.some((t) => t.includes('eng.zhang'))) fail(`the tasks: ${summary.tasks.join(' | ')}`)
  summary.changes = await panel.getByTestId('dry-change').allInnerTexts()
  if (!summary.changes.some((c) => c.includes('assigned_engineer') && c.includes('eng.zhang'))) fail(`the changes: ${summary.changes.join(' | ')}`)
  summary.effects = await panel.getByTestId('dry-effect').allInnerTexts()
  await accessible(page, 'flow-dry-run-en')

  // assign without an engineer: not allowed, the problem at the field it names
  await action.selectOption('assign')
  const engineer = panel.getByLabel(new RegExp(`^${labels('en').field('work_order', 'assigned_engineer')}`))
  await engineer.waitFor()
  await panel.getByRole('button', { name: en.run }).click()
  await said.getByText(en.refused).waitFor({ timeout: 30_000 })
  summary.problem = await panel.locator('#wf-dry-e-assigned_engineer').innerText()
  if (!/required/.test(summary.problem) || (await engineer.getAttribute('aria-invalid')) !== 'true') fail(`the problem at the field: ${summary.problem}`)
  summary.problems = await panel.getByTestId('dry-problem').allInnerTexts()
  await accessible(page, 'flow-dry-run-problem-en')

  // the draft changes: automatic dispatch now goes to ManualDispatch, and the dry run follows the draft
  const target = page.getByLabel('Review: Dispatch automatically leads to')
  await target.focus()
  await target.selectOption('ManualDispatch')
  await status.getByText("The server's checks find no problem").waitFor({ timeout: 45_000 })
  await action.selectOption('auto_dispatch')
  await panel.getByRole('button', { name: en.run }).click()
  await said.getByText(fill(en.allowed, { state: 'ManualDispatch' })).waitFor({ timeout: 30_000 })
  summary.draft_path = await steps.allInnerTexts()
  if (summary.draft_path.length !== 2 || !/ManualDispatch/.test(summary.draft_path[1])) fail(`the draft's path: ${summary.draft_path.join(' | ')}`)

  // the same panel in zh-CN
  await page.getByRole('combobox', { name: /Language|语言/ }).selectOption('zh-CN')
  const panelZh = page.getByRole('region', { name: zh.title })
  await panelZh.getByRole('status').getByText(fill(zh.allowed, { state: 'ManualDispatch' })).waitFor()
  await panelZh.getByRole('list', { name: zh.path }).waitFor()
  summary.zh_path = await panelZh.getByTestId('dry-step').allInnerTexts()
  await accessible(page, 'flow-dry-run-zh')
  if (errors.length) fail(`page errors: ${errors.join(' | ')}`)
})
