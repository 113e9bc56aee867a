// Browser walk of the workflow designer on the real local stack (Debian's chromium, playwright-core),
// started by tests/console/test_console_flow_designer.py with CONSOLE_URL after it made three work
// orders (two in Review, one dispatched). As the admin: Administration → Definitions → Design
// work_order; a Task is added from the palette and renamed Inspection; the server's check marks the
// new node (unreachable, its action leading nowhere) until it is connected — its edge to OnSite dragged
// on the diagram, Travelling's "arrive" pointed at it in the keyboard table; Review (live records) is
// renamed Triage; Save as new version; the impact's dry run counts the records in Review, mapped to
// Triage, and lists the report whose numbers they would rebuild; Publish with the mapping and wait for
// the migration job; then PartsCheck's first rule made a
// compound rule (And with a nested Not) in the panel's rule tree and saved. en, then zh-CN; axe-clean.
import { accessible as axeCheck, fail, screenshot as shot, signIn, walk } from './lib.mjs'

const base = process.env.CONSOLE_URL ?? 'http://127.0.0.1:8003'
const visited = []
const accessible = (page, name) => axeCheck(page, name, visited)
const summary = { ok: false, visited }
const started = Date.now()

await walk('flow_designer', summary, async (browser) => {
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
  const node = (id) => page.locator(`.react-flow__node[data-id="${id}"]`)
  await node('Review').waitFor()
  await accessible(page, 'flow-designer-en')

  // a Task from the palette, renamed Inspection (a new state: no records follow it)
  await page.getByRole('group', { name: 'Add a state' }).getByRole('button', { name: 'Add task' }).click()
  await node('Task').waitFor()
  const panel = page.locator('aside.wf-panel')
  await panel.getByLabel('State name').fill('Inspection')
  await panel.getByRole('button', { name: 'Rename' }).click()
  await node('Inspection').waitFor()
  // the server's check, on the node it concerns
  const badge = node('Inspection').locator('.wf-badge')
  await badge.waitFor({ timeout: 45_000 })
  summary.node_problem = (await node('Inspection').getAttribute('aria-label')) ?? ''
  if (!/unreachable|unknown state/.test(summary.node_problem)) fail(`the node's problem: ${summary.node_problem}`)
  await page.getByRole('heading', { name: 'Problems' }).waitFor()
  await accessible(page, 'flow-designer-problem-en')

  // Inspection → OnSite: an edge dragged from its handle on the diagram (fills its action's Next)
  await page.getByRole('button', { name: 'Automatic layout' }).click()
  await page.waitForTimeout(300) // the view fits the new layout
  const from = await node('Inspection').locator('.react-flow__handle.source').boundingBox()
  const to = await node('OnSite').locator('.react-flow__handle.target').boundingBox()
  if (!from || !to) fail('no handles on the diagram')
  await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2)
  await page.mouse.down()
  await page.mouse.move((from.x + to.x) / 2, (from.y + to.y) / 2, { steps: 8 })
  await page.mouse.move(to.x + to.width / 2, to.y + to.height / 2, { steps: 8 })
  await page.mouse.up()
  await page.locator('.react-flow__edge[data-id="Inspection|action:done"]').waitFor({ timeout: 30_000 })
    .catch(() => fail('the dragged edge Inspection → OnSite did not appear'))
  // Travelling's "arrive" now leads to Inspection: set in the table, by keyboard
  const arrive = page.getByLabel('Travelling: Arrived on site leads to')
  await arrive.focus()
  await arrive.selectOption('Inspection')
  await page.locator('.react-flow__edge[data-id="Travelling|action:arrive"]').waitFor()
  await badge.waitFor({ state: 'detached', timeout: 45_000 })
  await status.getByText("The server's checks find no problem").waitFor({ timeout: 45_000 })

  // Review holds live records: renamed Triage, every reference follows (StartAt too)
  await page.getByRole('button', { name: 'Review (Review)' }).click()
  await panel.getByLabel('State name').fill('Triage')
  await panel.getByRole('button', { name: 'Rename' }).click()
  await node('Triage').waitFor()
  await page.getByRole('row', { name: /Triage/ }).getByText('start').waitFor()
  await status.getByText("The server's checks find no problem").waitFor({ timeout: 45_000 })
  await page.getByRole('button', { name: 'Save as new version' }).click()
  const saved = await status.getByText(/saved as version (\d+)/).textContent({ timeout: 45_000 })
  summary.version = Number(/saved as version (\d+)/.exec(saved)[1])

  // the impact: the records in Review, mapped to Triage, before anything is published
  const impact = page.getByRole('region', { name: /Change impact of version/ })
  await impact.waitFor()
  await impact.getByLabel('Records in Review (Review) go to').selectOption('Triage')
  await impact.getByRole('button', { name: 'Show the impact (dry run)' }).click()
  await impact.getByText('Dry run done: nothing was written.').waitFor({ timeout: 30000 })
  const live = impact.getByRole('table', { name: 'Live records per state' })
  summary.impact_review = Number(await live.getByTestId('impact-Review').innerText())
  if (summary.impact_review !== 2) fail(`records in Review: ${summary.impact_review}`)
  summary.impact_rows = await live.locator('tbody tr').allInnerTexts()
  await live.getByRole('rowheader', { name: 'Review (renamed Triage)' }).waitFor()
  // ---- the reports whose numbers would be rebuilt (before publishing) -----------------------------------
  // the shipped per-region-and-status report counts the two orders of Review under Triage; a report that
  // reads the state but keeps its numbers (the backlog: Review and Triage are both open) is not listed.
  const rebuilt = impact.getByRole('list', { name: 'Reports whose numbers would be rebuilt' })
  const byStatus = rebuilt.getByRole('listitem').filter({ hasText: 'Work orders per region and status' })
  summary.report_impact = await byStatus.getByTestId('report-impact-orders_by_region_status').innerText()
  if (!summary.report_impact.startsWith('2 records would count elsewhere')) fail(`the report's line: ${summary.report_impact}`)
  await byStatus.getByText(/^reads the state \(dimension status\): Review .*→ Triage .*\(2 records\)$/).waitFor()
  summary.reports_listed = await rebuilt.locator(':scope > li').evaluateAll((items) => items.map((li) => li.dataset.report))
  if (summary.reports_listed.includes('backlog_ageing')) fail(`listed: ${summary.reports_listed}`)
  // ---- end of the reports part ----------------------------------------------------------------------------
  await accessible(page, 'flow-designer-impact-en')
  await impact.getByRole('button', { name: `Publish version ${summary.version} and move the records` }).click()
  const done = impact.getByText(/Migration done: (\d+) of (\d+) records moved/)
  await done.waitFor({ timeout: 60000 })
  summary.migration = await done.innerText()
  await status.getByText('published').waitFor()
  await accessible(page, 'flow-designer-published-en')

  // ---- a compound Choice rule, drawn as a rule tree (issue 15's editing gaps) -------------------------
  // PartsCheck's first rule (parts over 10,000) becomes and(parts_total > 10000, not(warranty_status =
  // in_warranty)) in the state panel, no JSON; saved as a new version, not published: the test reads it back.
  await page.getByRole('button', { name: 'PartsCheck (PartsCheck)' }).click()
  await panel.getByLabel('Kind of rule 1', { exact: true }).selectOption('And')
  await panel.getByLabel('Kind of rule 1.2', { exact: true }).selectOption('Not')
  await panel.getByLabel('Field of rule 1.2.1', { exact: true }).selectOption('warranty_status')
  await panel.getByLabel('Operator of rule 1.2.1', { exact: true }).selectOption('StringEquals')
  await panel.getByLabel('Value of rule 1.2.1', { exact: true }).fill('in_warranty')
  await panel.getByRole('list', { name: 'Rules of 1: all of (and)' }).waitFor()
  await status.getByText("The server's checks find no problem").waitFor({ timeout: 45_000 })
  await accessible(page, 'flow-designer-compound-rule-en')
  await page.getByRole('button', { name: 'Save as new version' }).click()
  summary.compound_version = summary.version + 1
  await status.getByText(`saved as version ${summary.compound_version}`).waitFor({ timeout: 45_000 })
  // ---- end of the compound Choice rule -----------------------------------------------------------------

  // the same page in zh-CN
  await page.getByRole('combobox', { name: /Language|语言/ }).selectOption('zh-CN')
  await page.getByRole('heading', { name: '流程设计器：work_order' }).waitFor()
  await page.getByRole('heading', { name: '状态与流转' }).waitFor()
  await accessible(page, 'flow-designer-zh')
  await shot(page, 'flow-designer-zh')
  summary.seconds = Math.round((Date.now() - started) / 1000)
  if (errors.length) fail(`page errors: ${errors.join(' | ')}`)
})
