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
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true })
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
