// Browser walk of a failed timer on the real local stack (Debian's chromium, playwright-core), started by
// tests/console/test_console_incidents.py with CONSOLE_URL, FIXED and STUCK (two records whose Wait →
// CreateRecord step failed), API_URL, ADMIN_TOKEN and FIXED_NOTE (the corrected note form the walk uploads). The admin opens each record: the Incidents panel says which timer failed,
// why (the step's field path), how often and since when (axe-clean, en and zh-CN); Retry now runs the
// fixed one's step (the record moves on, the panel goes); Dismiss with a comment drops the stuck one's
// timer and the history says so. Exit code 0 = every step passed; screenshots go to e2e/screenshots/.
import { accessible as axeCheck, fail, screenshot as shot, signIn, walk } from './lib.mjs'

const base = process.env.CONSOLE_URL ?? 'http://127.0.0.1:8003'
const visited = []
const accessible = (page, name) => axeCheck(page, name, visited)

const summary = { ok: false, visited }
await walk('incidents', summary, async (browser) => {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 900 } })
  const page = await context.newPage()
  const errors = []
  page.on('pageerror', (e) => errors.push(String(e)))
  await signIn(page, base, 'Ada Admin')

  // the fixed one: the definition its step needs was corrected after it failed; the admin retries
  await page.goto(`${base}/forms/ticket/records/${process.env.FIXED}`)
  const panel = page.getByRole('region', { name: 'Incidents' })
  await panel.waitFor()
  summary.line = await panel.locator('li strong').first().innerText()
  if (!/failed \d+ time\(s\) since/.test(summary.line)) fail(`the incident line: ${summary.line}`)
  summary.reason = await panel.locator('li p.muted').first().innerText()
  if (!/data\.text/.test(summary.reason)) fail(`the incident does not name the field: ${summary.reason}`)
  await accessible(page, 'incident-en')
  await shot(page, 'incident-en')
  const upload = await fetch(`${process.env.API_URL}/definitions/form/note/versions`, { method: 'POST', body: process.env.FIXED_NOTE,
    headers: { Authorization: `Bearer ${process.env.ADMIN_TOKEN}`, 'Content-Type': 'application/json' } })
  if (upload.status !== 201) fail(`fixing the note form: ${upload.status} ${await upload.text()}`)
  await panel.getByRole('button', { name: 'Retry now' }).click()
  await page.getByRole('status').filter({ hasText: 'Retried: the step ran.' }).waitFor()
  await page.locator('[data-testid="state"][data-state="Work"]').waitFor()
  summary.fixed_state = 'Work'

  // the stuck one, in Chinese: dismissed with a comment
  await page.getByRole('combobox', { name: /Language|语言/ }).selectOption('zh-CN')
  await page.goto(`${base}/forms/ticket/records/${process.env.STUCK}`)
  const zhPanel = page.getByRole('region', { name: '异常' })
  await zhPanel.waitFor()
  await accessible(page, 'incident-zh')
  await shot(page, 'incident-zh')
  const dismiss = zhPanel.getByRole('button', { name: '忽略' })
  if (!(await dismiss.isDisabled())) fail('dismissing is possible without a comment')
  await zhPanel.getByLabel('忽略原因（记入历史）').fill('客户已电话确认，无需记录')
  await dismiss.click()
  await zhPanel.waitFor({ state: 'detached' })
  await page.getByRole('region', { name: '历史' }).getByText('异常已忽略').waitFor()
  summary.stuck_dismissed = true
  if (errors.length) fail(`page errors: ${errors.join(' | ')}`)
})
