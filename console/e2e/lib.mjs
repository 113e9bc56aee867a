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
