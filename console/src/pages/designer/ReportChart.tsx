// A preview's chart and rows (POST /reports/{name}/preview): the API's Vega-Lite spec drawn with
// vega-embed as the dashboard page draws it (its no-fetch loader and text-only tooltips), and the rows as a table.
import { useEffect, useRef, useState } from 'react'
import { useTranslation } from 'react-i18next'
import embed, { vega } from 'vega-embed'
import type { EmbedOptions, Result, VisualizationSpec } from 'vega-embed'
import { NO_FETCH, showTooltip } from '../Dashboard'

export interface PreviewDimension { name: string; label: string; bucket: string | null; title: string | null }
export interface PreviewMeasure { name: string; label: string; op: string }
export interface Preview {
  rows: Record<string, unknown>[]
  dimensions: PreviewDimension[]
  measures: PreviewMeasure[]
  records_read: number
  complete: boolean
  bound: number
  vega_lite?: Record<string, unknown>
}

const EMBED: EmbedOptions = {
  renderer: 'svg', actions: false, loader: NO_FETCH, ast: true, defaultStyle: false, logLevel: vega.Error, tooltip: showTooltip,
}

function useNumber() {
  const { i18n } = useTranslation()
  const format = new Intl.NumberFormat(i18n.language, { maximumFractionDigits: 4 })
  return (value: unknown): string => (value === null || value === undefined ? '' : typeof value === 'number' ? format.format(value) : String(value))
}

export function RowsTable({ preview, caption }: { preview: Preview; caption: string }) {
  const { t } = useTranslation()
  const number = useNumber()
  if (!preview.rows.length) return <p className="muted">{t('reportDesigner.noRows')}</p>
  return (
    <div className="rd-table">
      <table className="grid">
        <caption>{caption}</caption>
        <thead>
          <tr>
            {preview.dimensions.map((d) => <th scope="col" key={d.name}>{d.label}</th>)}
            {preview.measures.map((m) => <th scope="col" className="num" key={m.name}>{m.label}</th>)}
          </tr>
        </thead>
        <tbody>
          {preview.rows.map((row, i) => (
            <tr key={i}>
              {preview.dimensions.map((d) => <td key={d.name}>{number(d.title ? row[d.title] ?? row[d.name] : row[d.name])}</td>)}
              {preview.measures.map((m) => <td className="num" key={m.name}>{number(row[m.name])}</td>)}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}

/** The spec drawn in an element of the given height; `label` names the figure for assistive tech. */
export function ChartView({ spec, label, height = 240, type }: { spec: Record<string, unknown> | undefined; label: string; height?: number; type: string }) {
  const { t } = useTranslation()
  const canvas = useRef<HTMLDivElement>(null)
  const [error, setError] = useState<string | null>(null)
  useEffect(() => {
    const element = canvas.current
    if (!element || !spec) return
    let cancelled = false
    let result: Result | null = null
    const { usermeta: _u, title: _t, ...rest } = spec
    const sized = type === 'number' || type === 'table' ? {} : { width: 'container', height, autosize: { type: 'fit-x', contains: 'padding' } }
    setError(null)
    embed(element, { ...rest, ...sized, description: label } as VisualizationSpec, EMBED)
      .then((r) => { if (cancelled) r.finalize(); else result = r })
      .catch((e: unknown) => { if (!cancelled) setError(e instanceof Error ? e.message : String(e)) })
    return () => { cancelled = true; result?.finalize() }
  }, [spec, label, height, type])
  if (!spec) return null
  return (
    <>
      <div ref={canvas} className="rd-canvas" data-testid="chart" />
      {error && <p role="alert" className="alert">{t('error', { message: error })}</p>}
    </>
  )
}
