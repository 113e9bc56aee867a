// The printable service report: fetched with the bearer token (never in a URL), in the console's
// language and the browser's time zone; shown from a Blob URL, or printed from a hidden frame so the
// browser's print dialog saves it as PDF (A4, set by the page's own @page rule).
import { ApiError } from './api'
import { session } from './auth'
import { config } from './config'
import i18n from './i18n'

/** The report route for this reader: its times in the browser's time zone. */
export function reportPath(base: string, zone = Intl.DateTimeFormat().resolvedOptions().timeZone): string {
  return `${base}/report` + (zone ? `?tz=${encodeURIComponent(zone)}` : '')
}

export async function fetchReport(base: string): Promise<string> {
  const response = await fetch(config().apiUrl + reportPath(base), {
    headers: { Authorization: `Bearer ${session()?.token ?? ''}`, 'Accept-Language': i18n.language },
  })
  const text = await response.text()
  if (!response.ok) {
    let error: any = {}
    try { error = JSON.parse(text)?.error ?? {} } catch { /* not the envelope */ }
    throw new ApiError(response.status, error.code ?? 'http_error', error.message ?? `HTTP ${response.status}`, error.details ?? [])
  }
  return text
}

export function openHtml(html: string): void {
  window.open(URL.createObjectURL(new Blob([html], { type: 'text/html' })), '_blank', 'noopener')
}

/** Print the page from a hidden frame that runs no script (sandbox without allow-scripts). */
export function printHtml(html: string): HTMLIFrameElement {
  const frame = document.createElement('iframe')
  frame.setAttribute('sandbox', 'allow-same-origin allow-modals') // the console may call print(); the page runs nothing
  frame.setAttribute('aria-hidden', 'true')
  frame.tabIndex = -1
  frame.style.cssText = 'position:fixed;right:0;bottom:0;width:0;height:0;border:0'
  const remove = () => window.setTimeout(() => frame.remove(), 100)
  frame.addEventListener('load', () => {
    const view = frame.contentWindow
    if (!view) return void frame.remove()
    view.addEventListener('afterprint', remove, { once: true })
    window.setTimeout(() => frame.remove(), 10 * 60_000) // a browser that never says afterprint
    view.focus()
    view.print()
  }, { once: true })
  frame.srcdoc = html
  document.body.appendChild(frame)
  return frame
}
