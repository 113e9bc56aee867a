// What every browser script here shares: Debian's chromium through playwright-core (never a downloaded
// browser), axe-core on a page (evaluated through the DevTools protocol, so the console's CSP stays on)
// with a screenshot kept under e2e/screenshots/ (ignored by git).
import { mkdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'

const here = dirname(fileURLToPath(import.meta.url))
export const shots = join(here, 'screenshots')
mkdirSync(shots, { recursive: true })
const axeSource = readFileSync(join(here, '..', 'node_modules', 'axe-core', 'axe.min.js'), 'utf8')

const locales = {}
/** The console's own words in a language (console/src/locales), as the walk finds them on screen. */
export function words(language) {
  locales[language] ??= JSON.parse(readFileSync(join(here, '..', 'src', 'locales', `${language}.json`), 'utf8'))
  return locales[language]
}

export function fail(message) {
  throw new Error(message)
}

export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  })
}

/** Sign in on the local stack's login page as the demo user named `who`, in `language`, and wait for
 *  the inbox. */
export async function signIn(page, base, who, language = 'en') {
  await page.goto(`${base}/login`)
  await page.getByRole('combobox', { name: /Language|语言/ }).selectOption(language)
  await page.getByRole('button', { name: new RegExp(who) }).click()
  await page.getByRole('heading', { name: words(language).inbox }).waitFor()
}

/** A full-page screenshot under e2e/screenshots/. */
export const screenshot = (page, name) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true })

/** axe-core on the page: no serious or critical violation, else fail; the page's figures go to `visited`. */
export async function accessible(page, name, visited) {
  await page.evaluate(axeSource)
  const result = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] })
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }))
  })
  const bad = result.filter((v) => v.impact === 'serious' || v.impact === 'critical')
  visited.push({ page: name, violations: result.length, serious_or_critical: bad.length, ids: result.map((v) => v.id) })
  if (bad.length) fail(`axe on ${name}: ${JSON.stringify(bad)}`)
  await screenshot(page, name)
}

const APP = join(here, '..', '..', 'definitions', 'after_sales')
const files = {}
const read = (path) => (files[path] ??= JSON.parse(readFileSync(join(APP, path), 'utf8')))
const tr = (node, key, language) => node?.translations?.[language]?.[key] ?? node?.Translations?.[language]?.[key]

/** The shipped app's words in a language, read from its definitions (their translations, else the
 *  author's words), as the console shows them to a reader of that language. */
export function labels(language) {
  const text = (node, key) => tr(node, key, language) ?? node?.[key]
  const workflow = read('workflows/work_order.json')
  const field = (form, name) => {
    const all = read(`forms/${form}.json`).fields.flatMap((f) => [f, ...(f.fields ?? [])])
    return all.find((f) => f.name === name) ?? fail(`no field ${form}.${name}`)
  }
  return {
    form: (name) => text(read(`forms/${name}.json`), 'title'),
    field: (form, name) => text(field(form, name), 'label') ?? name,
    option: (form, name, value) => text((field(form, name).options ?? []).find((o) => o.value === value) ?? fail(`no option ${value}`), 'label'),
    state: (name) => text(workflow.States[name] ?? fail(`no state ${name}`), 'Label') ?? name,
    action: (name) => text(Object.values(workflow.States).map((s) => s.Actions?.[name]).find(Boolean) ?? fail(`no action ${name}`), 'Label'),
    deadline: (name) => text([...workflow.Deadlines ?? [], ...Object.values(workflow.States).flatMap((s) => s.Deadlines ?? [])]
      .find((d) => d.Name === name) ?? fail(`no deadline ${name}`), 'Label') ?? name,
    dashboard: (name) => text(read(`dashboards/${name}.json`), 'title'),
    chart: (dashboard, id) => text(read(`dashboards/${dashboard}.json`).charts.find((c) => c.id === id) ?? fail(`no chart ${id}`), 'title'),
  }
}

/** Where each open page is and what it shows (its alerts, headings and buttons) — what a person
 *  looking at the screen would report when a step waited in vain; `name-failure.png` beside it. */
async function whatShows(browser, name) {
  const pages = browser.contexts().flatMap((c) => c.pages())
  const seen = []
  for (const [i, page] of pages.entries()) {
    try {
      if (i === 0) await screenshot(page, `${name}-failure`)
      seen.push({ url: page.url(), ...(await page.evaluate(() => {
        const text = (e) => (e.innerText ?? e.textContent ?? '').trim().replace(/\s+/g, ' ').slice(0, 200)
        const shown = (e) => !!(e.offsetWidth || e.offsetHeight || e.getClientRects().length)
        return {
          alerts: [...document.querySelectorAll('[role=alert], [role=status], .error, .rjsf .text-danger')].filter(shown).map(text).filter(Boolean),
          headings: [...document.querySelectorAll('h1, h2')].filter(shown).map(text).slice(0, 12),
          buttons: [...document.querySelectorAll('button')].filter(shown).map((b) => `${text(b) || b.getAttribute('aria-label')}${b.disabled ? ' (disabled)' : ''}`).slice(0, 40),
        }
      })) })
    } catch (error) {
      seen.push({ url: page.url(), unreadable: String(error).slice(0, 200) })
    }
  }
  return seen
}

/** One browser walk: chromium launched, `body(browser)` run, the browser closed, `summary` printed as
 *  JSON with `ok`; on a failure also the error and what the pages showed (`onFailure` may add more),
 *  and the process exits 1. */
export async function walk(name, summary, body, onFailure) {
  const browser = await launch()
  let code = 0
  try {
    await body(browser)
    summary.ok = true
  } catch (error) {
    code = 1
    summary.error = String(error?.stack ?? error)
    console.error(summary.error)
    summary.page = await whatShows(browser, name)
    if (onFailure) await onFailure(browser).catch((e) => { summary.on_failure = String(e) })
  } finally {
    await browser.close()
  }
  console.log(JSON.stringify(summary, null, 2))
  process.exit(code)
}
