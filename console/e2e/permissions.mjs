// Browser walk of the permissions designer on the real local stack (Debian's chromium, playwright-core),
// started by tests/console/test_console_permissions.py with CONSOLE_URL. As the admin, on Administration →
// Permissions: the manager is granted Update on the customer form; Read on it goes role by role instead of
// to every member (so that a field hidden from the engineer is hidden: the page says why while '*' still
// reads it); E-mail is hidden from the engineer; the manager's row rule is typed with a typo (the problem
// shown at the input), then fixed; the summary says what changes; Check, then Save publishes the form.
// Then the same page in zh-CN. axe-clean; screenshots to e2e/screenshots/. Exit code 0 = every step passed.
import { accessible as axeCheck, fail, screenshot as shot, signIn, walk } from './lib.mjs'

const base = process.env.CONSOLE_URL ?? 'http://127.0.0.1:8003'
const visited = []
const accessible = (page, name) => axeCheck(page, name, visited)
const TIMEOUT = 45_000 // a shared CI machine runs this beside other tests

const summary = { ok: false, visited }
await walk('permissions', summary, async (browser) => {
  const started = Date.now()
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 900 } })
  const page = await context.newPage()
  page.setDefaultTimeout(TIMEOUT)
  const errors = []
  page.on('pageerror', (e) => errors.push(String(e)))
  await signIn(page, base, 'Ada Admin')
  await page.goto(`${base}/admin/permissions`)
  const grid = page.getByRole('table', { name: 'Roles per form and action' })
  await grid.waitFor()
  const box = (name) => grid.getByRole('checkbox', { name, exact: true })
  await box('manager may Update Customer').waitFor()
  if (await box('manager may Update Customer').isChecked()) fail('manager may already update customers')
  if (!(await box('every member (*) may Read Customer').isChecked())) fail('customers are not read by every member')
  await accessible(page, 'permissions-en')

  // the grid: manager may update; Read role by role instead of every member
  await box('manager may Update Customer').check()
  await box('every member (*) may Read Customer').uncheck()
  for (const role of ['agent', 'engineer', 'manager', 'supervisor']) await box(`${role} may Read Customer`).check()

  // the customer form's fields and row rules
  await grid.getByRole('button', { name: 'Fields and row rules Customer' }).click()
  const detail = page.getByRole('region', { name: 'Fields and row rules: Customer' })
  await detail.waitFor()
  const hide = detail.getByRole('checkbox', { name: 'Hide E-mail from engineer', exact: true })
  await hide.check()
  // '*' no longer reads, so no warning that the engineer still sees it
  if (await detail.locator('.perm-warning').count()) fail(`warning shown: ${await detail.locator('.perm-warning').innerText()}`)

  const rule = detail.getByLabel('Row rule of manager on Customer', { exact: true })
  await rule.fill("regoin == 'north'")
  const problem = detail.locator('[data-problem-for="rule-customer-manager"]')
  await problem.waitFor()
  summary.rule_problem = (await problem.innerText()).trim()
  if (!/region/.test(summary.rule_problem)) fail(`the typo's problem: ${summary.rule_problem}`)
  if ((await rule.getAttribute('aria-invalid')) !== 'true') fail('the rule input is not marked invalid')
  await accessible(page, 'permissions-rule-problem-en')
  summary.rule = "region == 'north'"
  // a rule may not read the record's id ($id): the typing check admits it, the draft's check does not,
  // and says so at the input (its path permissions.rows.manager)
  await rule.fill("$id != null")
  await detail.getByText(/The rule is valid/).waitFor()
  await page.getByRole('region', { name: 'Changes to save' }).getByRole('button', { name: 'Check', exact: true }).click()
  await problem.waitFor()
  summary.check_problem = (await problem.innerText()).trim()
  if (!/\$id/.test(summary.check_problem)) fail(`the draft check's problem at the rule: ${summary.check_problem}`)
  await page.getByRole('region', { name: 'Changes to save' }).getByRole('status').getByText('1 problem: see the cells marked.').waitFor()
  await rule.fill(summary.rule)
  await detail.getByText(/The rule is valid; it reads region/).waitFor()
  if (await problem.count()) fail('the problem stayed after the fix')

  // the summary before saving
  const changes = page.getByRole('region', { name: 'Changes to save' })
  const items = changes.locator('ul ul li')
  await changes.getByText('manager may now Update Customer', { exact: true }).waitFor()
  summary.changes = (await items.allInnerTexts()).map((s) => s.trim())
  for (const want of ['manager may now Update Customer', 'every member (*) may no longer Read Customer', 'engineer may now Read Customer',
    'Customer: E-mail is now hidden from engineer', "manager sees only the Customer records where region == 'north'"]) {
    if (!summary.changes.includes(want)) fail(`the summary lacks "${want}": ${JSON.stringify(summary.changes)}`)
  }
  await changes.getByRole('button', { name: 'Check', exact: true }).click()
  await changes.getByRole('status').getByText('Checked: no problems.').waitFor()
  await accessible(page, 'permissions-summary-en')
  await changes.getByRole('button', { name: 'Save and publish 1 form' }).click()
  const saved = changes.getByRole('status').getByText(/^Saved and published: Customer v\d+\.$/)
  await saved.waitFor()
  summary.saved = (await saved.innerText()).trim()
  summary.version = Number(/v(\d+)/.exec(summary.saved)[1])
  await changes.getByText('No changes yet.').waitFor()
  // the grid shows the published version
  await grid.getByText(`customer v${summary.version}`).waitFor()
  if (!(await box('manager may Update Customer').isChecked())) fail('the saved grant is not shown')
  // the link to "what may a member do on a record, and why", with the form preselected
  await detail.getByRole('link', { name: 'What may a member do on a Customer record, and why' }).click()
  await page.getByRole('heading', { name: 'What may a member do on a record, and why' }).waitFor()
  summary.access_form = await page.locator('form.filters select').inputValue()
  if (summary.access_form !== 'customer') fail(`the access view's form: ${summary.access_form}`)

  await page.getByRole('combobox', { name: /Language|语言/ }).selectOption('zh-CN')
  await page.goto(`${base}/admin/permissions?form=customer`)
  const zhGrid = page.getByRole('table', { name: '各表单各操作的角色' })
  await zhGrid.waitFor()
  await zhGrid.getByText(`customer v${summary.version}`).waitFor() // a cached list of versions may show first
  const zhBox = zhGrid.getByRole('checkbox', { name: 'manager 可以修改客户', exact: true })
  await zhBox.waitFor()
  if (!(await zhBox.isChecked())) fail('zh: the grant is not shown')
  await page.getByRole('region', { name: '字段与行规则：客户' }).getByRole('checkbox', { name: '对 engineer 隐藏邮箱', exact: true }).waitFor()
  await accessible(page, 'permissions-zh')
  await shot(page, 'permissions-zh')
  summary.seconds = Math.round((Date.now() - started) / 1000)
  if (errors.length) fail(`page errors: ${errors.join(' | ')}`)
})
