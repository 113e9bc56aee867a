// Issue 15's acceptance walk on the real local stack (Debian's chromium, playwright-core), started by
// tests/console/test_console_new_app.py with CONSOLE_URL: a small new app built end to end through the
// designers alone — no API call for a definition — then used in the operations console by the roles it
// names. As the admin: the form designer makes "site_check" (a text "site", a select "result" pass/fail,
// a sub-table "checklist" of item text + ok checkbox, an image "photo") and publishes it; the permissions
// designer lets the engineer create/read/update and the supervisor read/update it (every member no
// longer); Administration → Definitions offers "Design workflow site_check" (the form has none): the
// workflow designer starts from a minimal draft, grows it into Inspect (task, engineer, photo and checklist editable,
// "submit") → Review (approval, supervisor; approved → Done, rejected → Inspect) → Done, and Save publishes
// version 1 (no records: no impact step); the report designer makes "site_checks_by_result" (result,
// count) and the dashboard designer "site_checks" with a bar chart of it. Then the engineer (Zhang San)
// creates a site check from the menu, fills the checklist, adds a photo and submits; the supervisor
// (Wang Wei, in zh-CN) approves it on the record page; the record reaches Done. axe on each new page.
import { accessible as axeCheck, fail, signIn, walk, words } from './lib.mjs'

const base = process.env.CONSOLE_URL ?? 'http://127.0.0.1:8003'
const visited = []
const accessible = (page, name) => axeCheck(page, name, visited)
const TIMEOUT = 45_000 // a shared, loaded machine runs this beside other tests
const SITE = 'North pump station'
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP8z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg==', 'base64')

const summary = { ok: false, visited, timings: {} }
const started = Date.now()
const lap = (name) => { summary.timings[name] = Math.round((Date.now() - started) / 1000) }

async function signOut(page, language) {
  await page.getByRole('button', { name: words(language).signOut }).click()
  await page.waitForURL(/\/login$/)
}

await walk('new_app', summary, async (browser) => {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1440, height: 1000 } })
  context.setDefaultTimeout(TIMEOUT)
  const page = await context.newPage()
  const errors = []
  page.on('pageerror', (e) => errors.push(String(e)))
  await signIn(page, base, 'Ada Admin', 'en')

  // --- the form ---------------------------------------------------------------------------------------
  await page.goto(`${base}/admin/definitions`)
  await page.getByRole('link', { name: 'Design a new form', exact: true }).click()
  await page.getByRole('heading', { name: /Form designer/ }).waitFor()
  const props = page.locator('.fd-properties')
  const list = page.locator('.fd-list')
  const field = (label) => props.getByLabel(label, { exact: true })
  const named = async (name, en, zh) => {
    await field('Name (in the API)').fill(name)
    await field('Label (English)').fill(en)
    await field('Label (中文)').fill(zh)
  }
  const options = async (values) => {
    for (const [i, [value, en, zh]] of values.entries()) {
      if (i > 0) await props.getByRole('button', { name: 'Add an option' }).click()
      await props.getByLabel(`Value of option ${i + 1}`).fill(value)
      await props.getByLabel(`English label of ${value}`).fill(en)
      await props.getByLabel(`Chinese label of ${value}`).fill(zh)
    }
  }
  await props.getByLabel('Form name (in the API)').fill('site_check')
  await props.getByLabel('Title (English)').fill('Site check')
  await props.getByLabel('Title (中文)').fill('现场检查')
  await page.getByRole('button', { name: 'Add Text', exact: true }).click()
  await named('site', 'Site', '站点')
  await field('Required').check()
  await page.getByRole('button', { name: 'Add Single select', exact: true }).click()
  await named('result', 'Result', '结果')
  await options([['pass', 'Pass', '通过'], ['fail', 'Fail', '不通过']])
  await page.getByRole('button', { name: 'Add Sub-table', exact: true }).click()
  await named('checklist', 'Checklist', '检查项')
  const columns = list.locator(':scope > li[data-field="checklist"] .fd-columns')
  await columns.locator('li[data-field="text_1"] .fd-pick').click()
  await named('item', 'Item', '项目')
  await columns.getByLabel('Column type').selectOption('checkbox')
  await columns.getByRole('button', { name: 'Add a column to Checklist' }).click()
  await named('ok', 'OK', '合格')
  await page.getByRole('button', { name: 'Add Image / photo', exact: true }).click()
  await named('photo', 'Photo', '照片')
  await page.getByRole('button', { name: 'Form settings' }).click()
  await page.locator('#fd-form-title-field').selectOption('site')
  await page.locator('.fd-status', { hasText: 'no problems' }).waitFor()
  await page.locator('.fd-preview').getByText('Checklist').first().waitFor()
  await accessible(page, 'new-app-form-en')
  await page.getByRole('button', { name: 'Save as new version' }).click()
  await page.locator('.fd-status', { hasText: 'Saved as version 1' }).waitFor()
  await page.getByRole('button', { name: 'Publish version 1' }).click()
  await page.locator('.fd-status', { hasText: 'Published version 1' }).waitFor()
  await page.getByRole('link', { name: 'Design its workflow' }).waitFor() // the way on to the form's workflow
  lap('form')

  // --- who may do what --------------------------------------------------------------------------------
  await page.goto(`${base}/admin/permissions?form=site_check`)
  const grid = page.getByRole('table', { name: 'Roles per form and action' })
  const box = (name) => grid.getByRole('checkbox', { name, exact: true })
  await box('engineer may Create Site check').waitFor()
  for (const action of ['Create', 'Read', 'Update']) {
    if (await box(`every member (*) may ${action} Site check`).isChecked()) await box(`every member (*) may ${action} Site check`).uncheck()
    await box(`engineer may ${action} Site check`).check()
  }
  for (const action of ['Read', 'Update']) await box(`supervisor may ${action} Site check`).check()
  const changes = page.getByRole('region', { name: 'Changes to save' })
  await changes.getByText('supervisor may now Update Site check', { exact: true }).waitFor()
  summary.permission_changes = (await changes.locator('ul ul li').allInnerTexts()).map((s) => s.trim())
  await changes.getByRole('button', { name: 'Check', exact: true }).click()
  await changes.getByRole('status').getByText('Checked: no problems.').waitFor()
  await accessible(page, 'new-app-permissions-en')
  await changes.getByRole('button', { name: 'Save and publish 1 form' }).click()
  await changes.getByRole('status').getByText(/^Saved and published: Site check v\d+\.$/).waitFor()
  lap('permissions')

  // --- the workflow: a new one, from the form's row in Definitions --------------------------------------
  await page.goto(`${base}/admin/definitions`)
  await page.getByRole('link', { name: 'Design workflow site_check', exact: true }).click()
  await page.getByRole('heading', { name: 'Workflow designer: new workflow for site_check' }).waitFor()
  await page.getByText('there is no impact to review').waitFor()
  const status = page.locator('.wf-designer > p[role=status]')
  const clean = () => status.getByText("The server's checks find no problem").waitFor()
  await clean()
  const node = (id) => page.locator(`.react-flow__node[data-id="${id}"]`)
  await node('Start').waitFor()
  await node('Done').waitFor()
  await accessible(page, 'new-app-workflow-new-en')
  const panel = page.locator('aside.wf-panel')
  const rename = async (to) => {
    await panel.getByLabel('State name').fill(to)
    await panel.getByRole('button', { name: 'Rename' }).click()
    await node(to).waitFor()
  }
  // the start task: Inspect, the engineers', the photo editable, its action "submit"
  await page.getByRole('button', { name: 'Start (Start)' }).click()
  await rename('Inspect')
  await panel.getByLabel('Assignee role').fill('engineer')
  await panel.getByRole('checkbox', { name: 'Photo' }).check()
  await panel.getByRole('checkbox', { name: 'Checklist' }).check() // a sub-table may be editable in a state
  const action = panel.locator('fieldset.wf-item').first()
  await action.getByLabel('Label (English)').fill('Submit')
  await action.getByLabel('Action name').fill('submit')
  await action.getByLabel('Action name').press('Tab') // renamed on leaving the input
  await page.locator('.react-flow__edge[data-id="Inspect|action:submit"]').waitFor()
  // the approval: Review, by a supervisor
  await page.getByRole('group', { name: 'Add a state' }).getByRole('button', { name: 'Add approval' }).click()
  await node('Approval').waitFor()
  await rename('Review')
  await panel.getByLabel("Approvers' role").fill('supervisor')
  await panel.getByLabel('When Review is approved').selectOption('Done')
  await panel.getByLabel('When Review is rejected').selectOption('Inspect')
  // Inspect's submit leads to Review: set in the keyboard table
  await page.getByLabel('Inspect: Submit leads to').selectOption('Review')
  for (const edge of ['Inspect|action:submit', 'Review|approve', 'Review|reject']) await page.locator(`.react-flow__edge[data-id="${edge}"]`).waitFor()
  await page.getByRole('button', { name: 'Automatic layout' }).click()
  await clean()
  await accessible(page, 'new-app-workflow-drawn-en')
  await page.getByRole('button', { name: 'Save and publish version 1' }).click()
  await status.getByText('published as version 1').waitFor()
  if (await page.getByRole('region', { name: /Change impact of version/ }).count()) fail('an impact step was shown for a first version')
  await page.getByRole('heading', { name: 'Workflow designer: site_check' }).waitFor()
  await accessible(page, 'new-app-workflow-published-en')
  lap('workflow')

  // --- the report and its dashboard ---------------------------------------------------------------------
  await page.goto(`${base}/admin/definitions`)
  await page.getByRole('link', { name: 'New report' }).click()
  await page.getByRole('heading', { name: 'Report designer: new' }).waitFor()
  await page.getByLabel('Name', { exact: true }).fill('site_checks_by_result')
  await page.getByLabel('Form', { exact: true }).selectOption('site_check')
  await page.getByLabel('Title (English)').fill('Site checks by result')
  await page.getByLabel('Title (Chinese)').fill('按结果统计现场检查')
  await page.getByLabel('Field', { exact: true }).selectOption('result')
  await page.getByRole('button', { name: 'Add dimension' }).click()
  await page.getByLabel('Label of dimension 1 (English)').fill('Result')
  await page.getByLabel('Name of measure 1').fill('checks')
  await page.getByLabel('Label of measure 1 (English)').fill('Checks')
  if (await page.getByLabel('Operation of measure 1').inputValue() !== 'count') fail('the measure is not a count')
  await page.getByTestId('bound').filter({ hasText: /Computed over all \d+ records/ }).waitFor()
  await accessible(page, 'new-app-report-en')
  await page.getByRole('button', { name: 'Save and publish' }).click()
  await page.getByRole('status').filter({ hasText: 'Saved as version 1 and published.' }).waitFor()
  await page.goto(`${base}/admin/definitions`)
  await page.getByRole('link', { name: 'New dashboard' }).click()
  await page.getByRole('heading', { name: 'Dashboard designer: new' }).waitFor()
  await page.getByLabel('Name', { exact: true }).fill('site_checks')
  await page.getByLabel('Title (English)').fill('Site checks')
  await page.getByLabel('Title (Chinese)').fill('现场检查')
  await page.getByLabel('Report', { exact: true }).selectOption('site_checks_by_result')
  await page.getByRole('button', { name: 'Add chart' }).click()
  await page.getByLabel('Title of chart 1 (English)').fill('Site checks by result')
  if (await page.getByLabel('Type of Site checks by result').inputValue() !== 'bar') fail('the new chart is not a bar chart')
  if (await page.getByLabel('X of Site checks by result').inputValue() !== 'result') fail("x is not the report's dimension")
  await accessible(page, 'new-app-dashboard-en')
  await page.getByRole('button', { name: 'Save and publish' }).click()
  await page.getByRole('status').filter({ hasText: 'Saved as version 1 and published.' }).waitFor()
  lap('report_dashboard')
  await signOut(page, 'en')

  // --- the engineer: a site check from the menu, its checklist, a photo, submitted -----------------------
  await signIn(page, base, 'Zhang San', 'en')
  const menu = page.getByRole('navigation', { name: words('en').forms })
  await menu.getByRole('link', { name: 'Site check', exact: true }).click()
  await page.getByRole('heading', { name: 'Site check' }).waitFor()
  await page.getByRole('link', { name: words('en').newRecord }).click()
  await page.locator('#root_site').fill(SITE)
  await page.locator('#root_result').selectOption({ label: 'Pass' })
  for (const [i, item] of ['Valves', 'Pressure gauge'].entries()) {
    await page.getByRole('button', { name: 'Add', exact: true }).click() // rjsf's add-a-row button (its title)
    await page.locator(`#root_checklist_${i}_item`).fill(item)
    await page.locator(`#root_checklist_${i}_ok`).check()
  }
  await accessible(page, 'new-app-record-new-en')
  await page.getByRole('button', { name: words('en').create }).click()
  await page.getByRole('heading', { name: `Site check · ${SITE}` }).waitFor()
  const state = (name) => page.locator(`[data-testid="state"][data-state="${name}"]`)
  await state('Inspect').waitFor()
  summary.record_url = page.url()
  await page.getByLabel(words('en').uploadTo.replace('{{field}}', 'Photo')).setInputFiles({ name: 'site.png', mimeType: 'image/png', buffer: PNG })
  await page.locator('img.thumb[alt="site.png"]').waitFor()
  await accessible(page, 'new-app-record-inspect-en')
  await page.getByRole('button', { name: 'Submit', exact: true }).click()
  await state('Review').waitFor()
  lap('engineer')
  await signOut(page, 'en')

  // --- the supervisor, in Chinese: approves it on the record page ----------------------------------------
  await signIn(page, base, 'Wang Wei', 'zh-CN')
  // the approval task in the inbox (a form without an auto number names the record by its id)
  const recordId = summary.record_url.split('/').pop()
  await page.getByRole('row').filter({ hasText: '现场检查' }).getByRole('link', { name: recordId }).click()
  await page.getByRole('heading', { name: `现场检查 · ${SITE}` }).waitFor()
  await state('Review').waitFor()
  await accessible(page, 'new-app-record-review-zh')
  await page.getByRole('button', { name: words('zh-CN').vote.approve, exact: true }).click()
  await state('Done').waitFor()
  lap('supervisor')
  summary.seconds = Math.round((Date.now() - started) / 1000)
  if (errors.length) fail(`page errors: ${errors.join(' | ')}`)
})
