// Browser walk of recurring work on the real local stack (Debian's chromium, playwright-core), started by
// tests/console/test_console_schedules.py with CONSOLE_URL. The shipped inspection app's monthly schedule
// is on Administration → Schedules: its coming occurrences with when their records are made; the admin
// skips the first one and restores it, is told at the field why a postponement earlier than the
// occurrence is refused, postpones the second; then the same page in zh-CN. axe-clean; screenshots to
// e2e/screenshots/. Exit code 0 = every step passed.
import { accessible as axeCheck, fail, screenshot as shot, signIn, walk } from './lib.mjs'

const base = process.env.CONSOLE_URL ?? 'http://127.0.0.1:8003'
const visited = []
const accessible = (page, name) => axeCheck(page, name, visited)

const summary = { ok: false, visited }
await walk('schedules', summary, async (browser) => {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 900 } })
  const page = await context.newPage()
  const errors = []
  page.on('pageerror', (e) => errors.push(String(e)))
  await signIn(page, base, 'Ada Admin')
  await page.goto(`${base}/admin/schedules`)
  const card = page.getByRole('region', { name: 'Monthly equipment inspection' })
  await card.waitFor()
  const rows = card.getByRole('table', { name: 'Coming occurrences' }).locator('tbody tr')
  await rows.first().waitFor()
  summary.first = (await rows.first().locator('td').first().innerText()).trim()
  summary.second = (await rows.nth(1).locator('td').first().innerText()).trim()
  if (!/^\d{4}-\d{2}-01 08:00$/.test(summary.first)) fail(`first occurrence: ${summary.first}`)
  await accessible(page, 'schedules-en')
  await shot(page, 'schedules-en')

  await card.getByRole('button', { name: `Skip Monthly equipment inspection ${summary.first}` }).click()
  await rows.first().getByText('Skipped').waitFor()
  await card.getByRole('button', { name: `Restore Monthly equipment inspection ${summary.first}` }).click()
  await rows.first().getByText('Scheduled').waitFor()

  // a postponement must be later than the occurrence: refused, and said at the field
  const second = rows.nth(1)
  const when = second.getByLabel(`Postpone to Monthly equipment inspection ${summary.second}`)
  const [day] = summary.second.split(' ')
  const before = new Date(`${day}T00:00:00Z`)
  before.setUTCDate(before.getUTCDate() - 1)
  await when.fill(`${before.toISOString().slice(0, 10)}T08:00`)
  await second.getByRole('button', { name: `Postpone Monthly equipment inspection ${summary.second}` }).click()
  const problem = second.getByRole('alert')
  await problem.waitFor()
  summary.refused = await problem.innerText()
  if (!/later than the occurrence/.test(summary.refused)) fail(`the refusal: ${summary.refused}`)
  if ((await when.getAttribute('aria-invalid')) !== 'true') fail('the field is not marked invalid')
  const later = new Date(`${day}T00:00:00Z`)
  later.setUTCDate(later.getUTCDate() + 3)
  summary.postponed_to = `${later.toISOString().slice(0, 10)}T09:30`
  await when.fill(summary.postponed_to)
  await second.getByRole('button', { name: `Postpone Monthly equipment inspection ${summary.second}` }).click()
  await card.getByRole('cell', { name: `${summary.second} → ${summary.postponed_to.replace('T', ' ')}` }).waitFor()
  await accessible(page, 'schedules-postponed-en')

  await page.getByRole('combobox', { name: /Language|语言/ }).selectOption('zh-CN')
  const zhCard = page.getByRole('region', { name: '设备月度巡检' })
  await zhCard.waitFor()
  await zhCard.getByRole('table', { name: '即将执行' }).getByText('已推迟').first().waitFor()
  await accessible(page, 'schedules-zh')
  await shot(page, 'schedules-zh')
  await page.setViewportSize({ width: 390, height: 844 })  // the same page on a phone's width
  await zhCard.waitFor()
  await accessible(page, 'schedules-phone-zh')
  await shot(page, 'schedules-phone')
  if (errors.length) fail(`page errors: ${errors.join(' | ')}`)
})
