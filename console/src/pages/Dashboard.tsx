import { useQuery } from '@tanstack/react-query'
import { useEffect, useId, useRef, useState } from 'react'
import { useTranslation } from 'react-i18next'
import { Link, useNavigate, useParams } from 'react-router'
import type { Loader } from 'vega'
import embed, { vega } from 'vega-embed'
import type { EmbedOptions, Result, VisualizationSpec } from 'vega-embed'
import { get } from '../lib/api'
import { downloadFile } from '../lib/download'
import { useNavigation } from '../lib/queries'
import type { FormNav } from '../lib/types'
import './Dashboard.css'

// A published dashboard (GET /dashboards/{name}): every chart with its rows and a Vega-Lite spec the API
// built. Drawn with vega-embed (this page is loaded lazily, so Vega is not in the shell's first load).

export interface DimensionInfo {
  name: string
  label: string
  bucket: string | null
  /** the row column with the display title of a lookup / user value */
  title: string | null
  /** the indexed field of the report's form this dimension equals: the record list filters on it */
  filter: string | null
}

export interface ChartBody {
  id: string
  type: 'number' | 'bar' | 'line' | 'pie' | 'table' | 'ranking'
  title: string | null
  report: string
  x: string | null
  y: string | null
  color: string | null
  layout: { x: number; y: number; w: number; h: number }
  description?: string | null
  form?: string
  dimensions?: DimensionInfo[]
  measures?: { name: string; label: string; op: string }[]
  rows?: Record<string, unknown>[]
  vega_lite?: Record<string, unknown>
  error?: { code: string; message: string }
}

export interface DashboardBody {
  dashboard: string
  title: string | null
  description?: string | null
  version: number
  columns?: number
  charts: ChartBody[]
}

const refuse = (what: string) => () => Promise.reject(new Error(`a chart loads nothing (${what}): its data is inline`))

/** Vega's loader, refusing every URL and file: a spec cannot make the browser fetch anything. */
export const NO_FETCH: Loader = {
  load: refuse('load'),
  sanitize: refuse('href'),
  http: refuse('http'),
  file: refuse('file'),
}

let tip: HTMLDivElement | null = null

/** Tooltips built with text nodes only (vega-tooltip would write HTML and add an inline <style>). The
 * same facts are in each mark's ARIA label and in the data table, so it is hidden from assistive tech. */
export function showTooltip(_handler: unknown, event: MouseEvent, _item: unknown, value: unknown): void {
  if (!tip) {
    tip = document.createElement('div')
    tip.className = 'chart-tooltip'
    tip.setAttribute('aria-hidden', 'true')
    document.body.appendChild(tip)
  }
  if (value === null || value === undefined || value === '') {
    tip.classList.remove('visible')
    return
  }
  const entries = typeof value === 'object' ? Object.entries(value as Record<string, unknown>) : [['', value] as const]
  tip.replaceChildren(...entries.map(([key, v]) => {
    const line = document.createElement('div')
    if (key) {
      const label = document.createElement('span')
      label.className = 'key'
      label.textContent = `${key}: `
      line.append(label)
    }
    line.append(String(v ?? ''))
    return line
  }))
  tip.style.left = `${Math.min(event.clientX + 12, window.innerWidth - 240)}px`
  tip.style.top = `${event.clientY + 12}px`
  tip.classList.add('visible')
}

const hideTooltip = () => tip?.classList.remove('visible')

const EMBED: EmbedOptions = {
  renderer: 'svg',
  actions: false,
  loader: NO_FETCH,
  ast: true, // expressions interpreted, never compiled with new Function (the console's CSP)
  defaultStyle: false,
  logLevel: vega.Error,
  tooltip: showTooltip,
}

/** The dimensions a mark of the chart stands for (a click filters on them). */
function shownDimensions(chart: ChartBody): string[] {
  if (chart.type === 'ranking') return [chart.x ?? chart.dimensions?.[0]?.name ?? ''].filter(Boolean)
  return [chart.x, chart.color].filter((n): n is string => !!n)
}

/** Dimensions of the chart a record list can be filtered on, for this caller. */
export function drillable(chart: ChartBody, forms: FormNav[] | undefined, names: string[] = shownDimensions(chart)): DimensionInfo[] {
  const form = forms?.find((f) => f.name === chart.form)
  if (!form) return []
  const allowed = new Set(form.filters.map((f) => f.name))
  return (chart.dimensions ?? []).filter((d) => names.includes(d.name) && d.filter && allowed.has(d.filter))
}

/** The record list of the chart's form filtered to what a mark (or a table row) stands for, or null. */
export function drillLink(chart: ChartBody, datum: unknown, forms: FormNav[] | undefined, names?: string[]): string | null {
  if (!datum || typeof datum !== 'object' || !chart.form) return null
  const params = new URLSearchParams()
  for (const dim of drillable(chart, forms, names)) {
    const value = (datum as Record<string, unknown>)[dim.name]
    if (typeof value === 'string' ? value === '' : typeof value !== 'number' && typeof value !== 'boolean') continue
    params.set(`filter.${dim.filter}`, String(value))
  }
  const query = params.toString()
  return query ? `/forms/${encodeURIComponent(chart.form)}?${query}` : null
}

/** The API's spec, sized to its grid cell; the heading is the page's, not the SVG's. */
function prepared(chart: ChartBody, describedAs: string, pointer: boolean): VisualizationSpec {
  const { usermeta: _usermeta, title: _title, ...spec } = chart.vega_lite ?? {}
  const sized = chart.type === 'number' || chart.type === 'table' ? {}
    : { width: 'container', height: Math.max(140, chart.layout.h * 56 - 110), autosize: { type: 'fit-x', contains: 'padding' } }
  const config = { ...((spec.config as object | undefined) ?? {}), ...(pointer ? { mark: { cursor: 'pointer' } } : {}) }
  return { ...spec, ...sized, description: describedAs, config } as VisualizationSpec
}

function useNumber() {
  const { i18n } = useTranslation()
  const format = new Intl.NumberFormat(i18n.language, { maximumFractionDigits: 4 })
  return (value: unknown): string => {
    if (value === null || value === undefined) return ''
    if (typeof value === 'number') return format.format(value)
    return String(value)
  }
}

function DataTable({ chart, forms, caption }: { chart: ChartBody; forms: FormNav[] | undefined; caption: string }) {
  const { t } = useTranslation()
  const number = useNumber()
  const dims = chart.dimensions ?? []
  const measures = chart.measures ?? []
  const rows = chart.rows ?? []
  const linked = new Set(drillable(chart, forms, dims.map((d) => d.name)).map((d) => d.name))
  if (rows.length === 0) return <p className="muted no-data">{t('noData')}</p>
  return (
    <div className="chart-table">
      <table className="grid">
        <caption className="sr-only">{caption}</caption>
        <thead>
          <tr>
            {dims.map((d) => <th scope="col" key={d.name}>{d.label}</th>)}
            {measures.map((m) => <th scope="col" className="num" key={m.name}>{m.label}</th>)}
          </tr>
        </thead>
        <tbody>
          {rows.map((row, i) => {
            const to = linked.size ? drillLink(chart, row, forms, dims.map((d) => d.name)) : null
            return (
              <tr key={i}>
                {dims.map((d) => {
                  const text = number(d.title ? row[d.title] ?? row[d.name] : row[d.name])
                  return <td key={d.name}>{to && linked.has(d.name) ? <Link to={to}>{text}</Link> : text}</td>
                })}
                {measures.map((m) => <td className="num" key={m.name}>{number(row[m.name])}</td>)}
              </tr>
            )
          })}
        </tbody>
      </table>
    </div>
  )
}

function ChartFigure({ chart, forms }: { chart: ChartBody; forms: FormNav[] | undefined }) {
  const { t } = useTranslation()
  const navigate = useNavigate()
  const id = useId()
  const canvas = useRef<HTMLDivElement>(null)
  const formsNow = useRef(forms)
  formsNow.current = forms
  const [drawError, setDrawError] = useState<string | null>(null)
  const [exporting, setExporting] = useState(false)
  const [exportError, setExportError] = useState<string | null>(null)
  const title = chart.title || chart.report
  const pointer = drillable(chart, forms).length > 0
  const describedAs = chart.description ? `${title}. ${chart.description}` : title
  const empty = !chart.rows?.length
  const drawn = !!chart.vega_lite && chart.type !== 'table' && !empty

  useEffect(() => {
    const element = canvas.current
    if (!element || !drawn) return
    let cancelled = false
    let result: Result | null = null
    setDrawError(null)
    embed(element, prepared(chart, describedAs, pointer), EMBED)
      .then((r) => {
        if (cancelled) return r.finalize()
        result = r
        r.view.addEventListener('click', (_event, item) => {
          const to = drillLink(chart, (item as { datum?: unknown } | null | undefined)?.datum, formsNow.current)
          if (to) navigate(to)
        })
      })
      .catch((e: unknown) => { if (!cancelled) setDrawError(e instanceof Error ? e.message : String(e)) })
    return () => {
      cancelled = true
      hideTooltip()
      result?.finalize()
    }
  }, [chart, describedAs, pointer, drawn, navigate])

  const exportCsv = async () => {
    setExporting(true)
    setExportError(null)
    try {
      await downloadFile(`/reports/${encodeURIComponent(chart.report)}/csv`, `${chart.report}.csv`)
    } catch (e) {
      setExportError(e instanceof Error ? e.message : String(e))
    } finally {
      setExporting(false)
    }
  }

  const { x, y, w, h } = chart.layout
  return (
    <figure className="chart" aria-labelledby={`${id}-title`} aria-describedby={chart.description ? `${id}-desc` : undefined}
      style={{ gridColumn: `${x + 1} / span ${w}`, gridRow: `${y + 1} / span ${h}` }}>
      <figcaption>
        <div className="row">
          <h2 id={`${id}-title`}>{title}</h2>
          <span className="spacer" />
          {!chart.error && (
            <button type="button" onClick={exportCsv} disabled={exporting} aria-label={t('exportCsvOf', { title })}>
              {exporting ? t('exporting') : t('exportCsv')}
            </button>
          )}
        </div>
        {chart.description && <p id={`${id}-desc`} className="muted">{chart.description}</p>}
      </figcaption>
      {exportError && <p role="alert" className="alert">{t('error', { message: exportError })}</p>}
      {chart.error ? (
        <p className="muted">{t('chartUnavailable', { message: chart.error.message })}</p>
      ) : chart.type === 'table' || empty ? (
        <DataTable chart={chart} forms={forms} caption={title} />
      ) : (
        <>
          <div ref={canvas} className="chart-canvas" />
          {drawError && <p role="alert" className="alert">{t('error', { message: drawError })}</p>}
          {pointer && <p className="muted hint">{t('chartDrillHint')}</p>}
          <details>
            <summary>{t('dataTable')}</summary>
            <DataTable chart={chart} forms={forms} caption={title} />
          </details>
        </>
      )}
    </figure>
  )
}

export default function Dashboard() {
  const { name = '' } = useParams()
  const { t } = useTranslation()
  const nav = useNavigation()
  const board = useQuery({
    queryKey: ['dashboard', name],
    queryFn: () => get<DashboardBody>(`/dashboards/${encodeURIComponent(name)}`),
    staleTime: 60_000,
  })
  const charts = board.data?.charts ?? []
  // the grid the dashboard's designer placed the charts on (the server's grid_columns)
  const columns = board.data?.columns ?? Math.max(12, ...charts.map((c) => c.layout.x + c.layout.w))
  return (
    <section aria-labelledby="dashboard-title" className="dashboard">
      <h1 id="dashboard-title">{board.data?.title || nav.data?.dashboards.find((d) => d.name === name)?.title || name}</h1>
      {board.data?.description && <p className="muted">{board.data.description}</p>}
      {board.isLoading && <p role="status">{t('loading')}</p>}
      {board.error && <p role="alert">{t('error', { message: (board.error as Error).message })}</p>}
      {board.data && (
        <div className="dash-grid" style={{ gridTemplateColumns: `repeat(${columns}, minmax(0, 1fr))` }}>
          {charts.map((chart) => <ChartFigure key={chart.id} chart={chart} forms={nav.data?.forms} />)}
        </div>
      )}
    </section>
  )
}
