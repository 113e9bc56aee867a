import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { useEffect, useRef, useState, type PointerEvent as ReactPointerEvent, type ReactNode, type RefObject } from 'react'
import { useTranslation } from 'react-i18next'
import { Link, useNavigate, useParams } from 'react-router'
import { ApiError, get, post } from '../../lib/api'
import { ChartView, RowsTable, type Preview } from './ReportChart'
import { useDebounced } from './ReportDesigner'
import {
  CHART_TYPES, NAME, chartBinding, clampLayout, freeName, moveLayout, nextPlace, newKey, placeChartProblem, regrid, resizeLayout, toDashDefinition,
  toDashDraft, type ChartType, type Columns, type DashDraft, type DraftChart, type Json, type Layout,
} from './ReportDraft'
import './ReportDesigner.css'

// The dashboard designer (issue 15): a dashboard's charts, each bound to a published report (type, x, y,
// color, title in en and zh-CN), placed on the dashboard's grid of 12 or 24 columns — the grid the dashboard
// page draws (x, y, w, h inputs, and buttons that move
// and resize by one cell), each previewed with POST /reports/{report}/preview of the report's published
// definition; save = a new version, published. The server's problems are shown at the chart's control.

interface Head { latest: number; published: number | null }
interface ReportDef { dimensions?: { name: string; label?: string }[]; measures?: { name: string; label?: string }[]; title?: string; [key: string]: Json | undefined }

const EMPTY: DashDraft = { title: '', titleZh: '', columns: 12, charts: [], rest: {} }

async function publishedReport(name: string): Promise<{ version: number; definition: ReportDef }> {
  const head = await get<Head>(`/definitions/report/${encodeURIComponent(name)}`)
  if (!head.published) throw new Error(`report '${name}' is not published`)
  const body = await get<{ definition: ReportDef }>(`/definitions/report/${encodeURIComponent(name)}/versions/${head.published}`)
  return { version: head.published, definition: body.definition }
}

const useReport = (name: string) =>
  useQuery({ queryKey: ['dashboardDesigner', 'report', name], queryFn: () => publishedReport(name), enabled: !!name, staleTime: 30_000, retry: false })

/** Pointer handlers that move (or resize) a chart by whole grid cells as it is dragged; the buttons and
 *  inputs of its editor do the same from the keyboard. */
function useGridDrag(chart: DraftChart, grid: RefObject<HTMLDivElement | null>, onLayout: (l: Layout) => void, mode: 'move' | 'resize',
  columns: number) {
  const start = useRef<{ x: number; y: number; layout: Layout } | null>(null)
  return {
    onPointerDown: (e: ReactPointerEvent<HTMLElement>) => {
      if (e.button !== 0) return
      e.preventDefault()
      e.currentTarget.setPointerCapture(e.pointerId)
      start.current = { x: e.clientX, y: e.clientY, layout: chart.layout }
    },
    onPointerMove: (e: ReactPointerEvent<HTMLElement>) => {
      const from = start.current
      if (!from || !grid.current) return
      const column = grid.current.clientWidth / columns
      const dx = Math.round((e.clientX - from.x) / column)
      const dy = Math.round((e.clientY - from.y) / ROW_PX)
      const next = mode === 'move' ? moveLayout(from.layout, dx, dy, columns) : resizeLayout(from.layout, dx, dy, columns)
      if (JSON.stringify(next) !== JSON.stringify(chart.layout)) onLayout(next)
    },
    onPointerUp: () => { start.current = null },
    onPointerCancel: () => { start.current = null },
  }
}

const ROW_PX = 62 // a grid row (56 px) and its gap

function ChartCell({ chart, selected, onSelect, grid, onLayout, columns }: {
  chart: DraftChart; selected: boolean; onSelect: () => void; grid: RefObject<HTMLDivElement | null>; onLayout: (l: Layout) => void
  columns: number
}) {
  const { t } = useTranslation()
  const drag = useGridDrag(chart, grid, onLayout, 'move', columns)
  const resize = useGridDrag(chart, grid, onLayout, 'resize', columns)
  const report = useReport(chart.report)
  const binding = useDebounced(JSON.stringify(chartBinding(chart)), 400)
  const preview = useQuery({
    queryKey: ['dashboardDesigner', 'preview', chart.report, report.data?.version, binding],
    enabled: !!report.data,
    retry: false,
    placeholderData: keepPreviousData,
    queryFn: () => post<Preview>(`/reports/${encodeURIComponent(chart.report)}/preview`, { definition: report.data!.definition, chart: JSON.parse(binding) }),
  })
  const { x, y, w, h } = chart.layout
  const title = chart.title || chart.id
  return (
    <section className={`dd-cell${selected ? ' selected' : ''}`} aria-label={t('reportDesigner.cellOf', { title })}
      style={{ gridColumn: `${x + 1} / span ${w}`, gridRow: `${y + 1} / span ${h}` }} data-chart={chart.id}>
      <div className="row dd-cell-head">
        <span className="dd-drag" aria-hidden="true" title={t('reportDesigner.dragHint')} {...drag}>⠿</span>
        <h4>{title}</h4>
        <span className="muted rd-hint">{t('reportDesigner.placedAt', { x, y, w, h })}</span>
        <span className="spacer" />
        <button type="button" aria-pressed={selected} onClick={onSelect}>{t('reportDesigner.editChart', { title })}</button>
      </div>
      {(report.error || preview.error) && <p role="alert" className="alert">{((report.error || preview.error) as Error).message}</p>}
      {preview.data && (chart.type === 'table' || !preview.data.rows.length
        ? <RowsTable preview={preview.data} caption={title} />
        : <ChartView spec={preview.data.vega_lite} type={chart.type} label={title} height={Math.max(60, h * 62 - 165)} />)}
      <span className="dd-resize" aria-hidden="true" title={t('reportDesigner.resizeHint')} {...resize} />
    </section>
  )
}

function ChartEditor({ chart, index, problems, onChange, onRemove, columns }: {
  chart: DraftChart; index: number; problems: Record<string, string[]>; onChange: (patch: Partial<DraftChart>) => void; onRemove: () => void
  columns: number
}) {
  const { t } = useTranslation()
  const report = useReport(chart.report)
  const reports = useQuery({ queryKey: ['dashboardDesigner', 'reports'], queryFn: () => get<{ items: { name: string }[] }>('/reports'), staleTime: 30_000 })
  const dims = report.data?.definition.dimensions ?? []
  const measures = report.data?.definition.measures ?? []
  const title = chart.title || chart.id
  const base = `dd-${chart.key}`
  const at = (prop: string) => {
    const id = `${base}-${prop}`
    const mine = problems[id] ?? []
    return {
      props: { id, 'aria-invalid': mine.length ? (true as const) : undefined, 'aria-describedby': mine.length ? `${id}-problem` : undefined },
      message: mine.length ? <div id={`${id}-problem`} className="rd-problem" role="alert">{mine.map((m, i) => <div key={i}>{m}</div>)}</div> : null,
    }
  }
  const prop = (name: string, label: string, control: (p: ReturnType<typeof at>['props']) => ReactNode) => {
    const a = at(name)
    return <div className="rd-prop"><label htmlFor={a.props.id}>{label}</label>{control(a.props)}{a.message}</div>
  }
  const setLayout = (layout: Layout) => onChange({ layout: clampLayout(layout, columns) })
  const layoutInput = (key: keyof Layout) => prop(`layout-${key}`, t(`reportDesigner.layout.${key}`, { title }), (p) => (
    <input {...p} type="number" min={key === 'w' || key === 'h' ? 1 : 0} max={key === 'x' ? columns - 1 : key === 'w' ? columns : key === 'h' ? 50 : 1000}
      value={chart.layout[key]} onChange={(e) => e.target.value !== '' && setLayout({ ...chart.layout, [key]: Number(e.target.value) })} />
  ))
  const move = (label: string, next: Layout) => (
    <button type="button" onClick={() => setLayout(next)} aria-label={t(`reportDesigner.moves.${label}`, { title })}
      disabled={JSON.stringify(next) === JSON.stringify(chart.layout)}>{t(`reportDesigner.moveSymbols.${label}`)}</button>
  )
  return (
    <fieldset className="dd-editor" aria-describedby={problems[`${base}-item`] ? `${base}-item-problem` : undefined}>
      <legend>{t('reportDesigner.chartN', { n: index + 1, title })}</legend>
      {at('item').message}
      <div className="rd-pair">
        {prop('report', t('reportDesigner.chartReport', { title }), (p) => (
          <select {...p} value={chart.report} onChange={(e) => onChange({ report: e.target.value, x: '', y: '', color: '' })}>
            {(reports.data?.items ?? []).map((r) => <option key={r.name} value={r.name}>{r.name}</option>)}
            {!reports.data?.items.some((r) => r.name === chart.report) && <option value={chart.report}>{chart.report}</option>}
          </select>
        ))}
        {prop('type', t('reportDesigner.chartTypeOf', { title }), (p) => (
          <select {...p} value={chart.type} onChange={(e) => onChange({ type: e.target.value as ChartType })}>
            {CHART_TYPES.map((c) => <option key={c} value={c}>{t(`reportDesigner.chartTypes.${c}`)}</option>)}
          </select>
        ))}
      </div>
      <div className="rd-triple">
        {prop('x', t('reportDesigner.chartXOf', { title }), (p) => (
          <select {...p} value={chart.x} onChange={(e) => onChange({ x: e.target.value })}>
            <option value="">—</option>
            {dims.map((d) => <option key={d.name} value={d.name}>{d.label || d.name}</option>)}
          </select>
        ))}
        {prop('y', t('reportDesigner.chartYOf', { title }), (p) => (
          <select {...p} value={chart.y} onChange={(e) => onChange({ y: e.target.value })}>
            <option value="">—</option>
            {measures.map((m) => <option key={m.name} value={m.name}>{m.label || m.name}</option>)}
          </select>
        ))}
        {prop('color', t('reportDesigner.chartColorOf', { title }), (p) => (
          <select {...p} value={chart.color} onChange={(e) => onChange({ color: e.target.value })}>
            <option value="">{t('reportDesigner.noColor')}</option>
            {dims.filter((d) => d.name !== chart.x).map((d) => <option key={d.name} value={d.name}>{d.label || d.name}</option>)}
          </select>
        ))}
      </div>
      <div className="rd-triple">
        {prop('id', t('reportDesigner.chartId', { n: index + 1 }), (p) => <input {...p} value={chart.id} onChange={(e) => onChange({ id: e.target.value })} />)}
        {prop('title', t('reportDesigner.chartTitleEn', { n: index + 1 }), (p) => <input {...p} value={chart.title} onChange={(e) => onChange({ title: e.target.value })} />)}
        {prop('titleZh', t('reportDesigner.chartTitleZh', { n: index + 1 }), (p) => <input {...p} lang="zh-CN" value={chart.titleZh} onChange={(e) => onChange({ titleZh: e.target.value })} />)}
      </div>
      {prop('limit', t('reportDesigner.chartLimit', { title }), (p) => (
        <input {...p} inputMode="numeric" value={chart.limit} onChange={(e) => onChange({ limit: e.target.value })} />
      ))}
      <div className="rd-pair dd-layout-inputs">
        {layoutInput('x')}{layoutInput('y')}{layoutInput('w')}{layoutInput('h')}
      </div>
      <div className="dd-moves" role="group" aria-label={t('reportDesigner.placeChart', { title })}>
        {move('left', moveLayout(chart.layout, -1, 0, columns))}
        {move('right', moveLayout(chart.layout, 1, 0, columns))}
        {move('up', moveLayout(chart.layout, 0, -1, columns))}
        {move('down', moveLayout(chart.layout, 0, 1, columns))}
        {move('narrower', resizeLayout(chart.layout, -1, 0, columns))}
        {move('wider', resizeLayout(chart.layout, 1, 0, columns))}
        {move('shorter', resizeLayout(chart.layout, 0, -1, columns))}
        {move('taller', resizeLayout(chart.layout, 0, 1, columns))}
      </div>
      <button type="button" onClick={onRemove}>{t('reportDesigner.removeChart', { title })}</button>
    </fieldset>
  )
}

export default function DashboardDesigner() {
  const { name: routeName = 'new' } = useParams()
  const { t } = useTranslation()
  const navigate = useNavigate()
  const queries = useQueryClient()
  const isNew = routeName === 'new'
  const [newName, setNewName] = useState('')
  const name = isNew ? newName : routeName
  const head = useQuery({
    queryKey: ['dashboardDesigner', 'head', routeName], enabled: !isNew, retry: false,
    queryFn: () => get<Head>(`/definitions/dashboard/${encodeURIComponent(routeName)}`),
  })
  const missing = head.error instanceof ApiError && head.error.status === 404
  const stored = useQuery({
    queryKey: ['dashboardDesigner', 'version', routeName, head.data?.latest], enabled: !!head.data,
    queryFn: () => get<{ definition: Record<string, Json> }>(`/definitions/dashboard/${encodeURIComponent(routeName)}/versions/${head.data!.latest}`),
  })
  const [draft, setDraft] = useState<DashDraft | null>(isNew ? EMPTY : null)
  useEffect(() => {
    if (stored.data && !draft) setDraft(toDashDraft(stored.data.definition))
    if ((missing || isNew) && !draft) setDraft(EMPTY)
  }, [stored.data, missing, isNew, draft])
  // another report opened in the same designer (not the new one just saved under its name): its own draft
  const [loadedFor, setLoadedFor] = useState(routeName)
  if (loadedFor !== routeName) {
    if (loadedFor !== 'new') setDraft(null)
    setLoadedFor(routeName)
  }
  const reports = useQuery({ queryKey: ['dashboardDesigner', 'reports'], queryFn: () => get<{ items: { name: string }[] }>('/reports'), staleTime: 30_000 })
  const [adding, setAdding] = useState('')
  const [selected, setSelected] = useState<string | null>(null)
  const [savedDraft, setSavedDraft] = useState<DashDraft | null>(null)
  const grid = useRef<HTMLDivElement>(null)
  const save = useMutation({
    mutationFn: () => post<{ version: number }>(`/definitions/dashboard/${encodeURIComponent(name)}/versions?publish=true`, toDashDefinition(draft!, name)),
    onSuccess: () => {
      void queries.invalidateQueries({ queryKey: ['definitions'] })
      void queries.invalidateQueries({ queryKey: ['navigation'] })
      void queries.invalidateQueries({ queryKey: ['dashboard', name] })
      if (isNew) navigate(`/admin/dashboards/${encodeURIComponent(name)}`, { replace: true })
    },
  })

  if (!isNew && head.isLoading) return <p role="status">{t('loading')}</p>
  if (!isNew && head.error && !missing) return <p role="alert">{t('error', { message: (head.error as Error).message })}</p>
  if (!draft) return <p role="status">{t('loading')}</p>

  const set = (next: DashDraft) => { setDraft(next); save.reset() }
  const problems: Record<string, string[]> = {}
  const unplaced: string[] = []
  if (save.error instanceof ApiError && savedDraft) {
    for (const p of save.error.details) {
      const placed = placeChartProblem(p.path, savedDraft)
      if (placed.key && draft.charts.some((c) => c.key === placed.key)) {
        const prop = placed.prop === 'layout' ? `layout-${/layout\.([xywh])/.exec(p.path)?.[1] ?? 'x'}` : placed.prop === 'translations' ? 'titleZh' : placed.prop || 'item'
        ;(problems[`dd-${placed.key}-${prop}`] ??= []).push(p.message)
      } else unplaced.push(p.path ? `${p.path}: ${p.message}` : p.message)
    }
  }
  const addChart = async () => {
    const report = await queries.fetchQuery({ queryKey: ['dashboardDesigner', 'report', adding], queryFn: () => publishedReport(adding), staleTime: 30_000 })
    const key = newKey('c')
    const chart: DraftChart = {
      key, id: freeName(adding, draft.charts.map((c) => c.id)), type: 'bar', report: adding, title: String(report.definition.title ?? ''), titleZh: '',
      x: report.definition.dimensions?.[0]?.name ?? '', y: report.definition.measures?.[0]?.name ?? '', color: '', limit: '',
      layout: nextPlace(draft.charts, draft.columns / 2, 5, draft.columns), rest: {},
    }
    set({ ...draft, charts: [...draft.charts, chart] })
    setSelected(key)
  }
  const nameOk = NAME.test(name)
  const rows = Math.max(6, ...draft.charts.map((c) => c.layout.y + c.layout.h))

  return (
    <section className="rd" aria-labelledby="dd-title">
      <div className="row rd-toolbar">
        <h2 id="dd-title">{t('reportDesigner.dashboardTitle', { name: name || t('reportDesigner.untitled') })}</h2>
        <span className="spacer" />
        <Link to="/admin/definitions">{t('reportDesigner.back')}</Link>
        {!isNew && save.isSuccess && <Link to={`/dashboards/${encodeURIComponent(name)}`}>{t('reportDesigner.openDashboard')}</Link>}
        <button type="button" className="primary" disabled={!nameOk || !draft.charts.length || save.isPending}
          onClick={() => { setSavedDraft(draft); save.mutate() }}>{save.isPending ? t('reportDesigner.saving') : t('reportDesigner.save')}</button>
      </div>
      <div aria-live="polite">{save.isSuccess && <p role="status">{t('reportDesigner.saved', { version: save.data.version })}</p>}</div>
      {save.isError && <div role="alert" className="alert">{t('reportDesigner.saveRefused', { message: (save.error as Error).message })}
        {unplaced.map((m, i) => <div key={i}>{m}</div>)}</div>}
      <div className="dd-layout">
        <div className="rd-controls">
          <fieldset>
            <legend>{t('reportDesigner.dashboard')}</legend>
            {isNew && (
              <div className="rd-prop">
                <label htmlFor="dd-name">{t('reportDesigner.name')}</label>
                <input id="dd-name" value={newName} onChange={(e) => setNewName(e.target.value)} aria-describedby="dd-name-hint"
                  aria-invalid={newName && !nameOk ? true : undefined} />
                <p id="dd-name-hint" className="muted rd-hint">{t('reportDesigner.nameHint')}</p>
              </div>
            )}
            <div className="rd-pair">
              <div className="rd-prop"><label htmlFor="dd-title-en">{t('reportDesigner.titleEn')}</label>
                <input id="dd-title-en" value={draft.title} onChange={(e) => set({ ...draft, title: e.target.value })} /></div>
              <div className="rd-prop"><label htmlFor="dd-title-zh">{t('reportDesigner.titleZh')}</label>
                <input id="dd-title-zh" lang="zh-CN" value={draft.titleZh} onChange={(e) => set({ ...draft, titleZh: e.target.value })} /></div>
            </div>
            <div className="rd-prop">
              <label htmlFor="dd-columns">{t('reportDesigner.columns')}</label>
              <select id="dd-columns" value={draft.columns} aria-describedby="dd-columns-hint"
                onChange={(e) => set(regrid(draft, Number(e.target.value) as Columns))}>
                <option value={12}>12</option>
                <option value={24}>24</option>
              </select>
              <p id="dd-columns-hint" className="muted rd-hint">{t('reportDesigner.columnsHint')}</p>
            </div>
            <div className="row rd-add">
              <label htmlFor="dd-add-report">{t('reportDesigner.addChartOf')}</label>
              <select id="dd-add-report" value={adding} onChange={(e) => setAdding(e.target.value)}>
                <option value="">—</option>
                {(reports.data?.items ?? []).map((r) => <option key={r.name} value={r.name}>{r.name}</option>)}
              </select>
              <button type="button" disabled={!adding || draft.charts.length >= 30} onClick={() => void addChart()}>{t('reportDesigner.addChart')}</button>
            </div>
          </fieldset>
          {draft.charts.map((c, i) => (selected === null || selected === c.key || draft.charts.length <= 2) && (
            <ChartEditor key={c.key} chart={c} index={i} problems={problems} columns={draft.columns}
              onChange={(patch) => set({ ...draft, charts: draft.charts.map((x) => (x.key === c.key ? { ...x, ...patch } : x)) })}
              onRemove={() => { set({ ...draft, charts: draft.charts.filter((x) => x.key !== c.key) }); setSelected(null) }} />
          ))}
        </div>
        <section aria-labelledby="dd-grid-title">
          <h3 id="dd-grid-title">{t('reportDesigner.grid')}</h3>
          {draft.charts.length === 0 && <p className="muted">{t('reportDesigner.noCharts')}</p>}
          <div className="dd-grid" ref={grid} data-columns={draft.columns} style={{
            gridTemplateRows: `repeat(${rows}, 56px)`, gridTemplateColumns: `repeat(${draft.columns}, minmax(0, 1fr))`,
            backgroundSize: `calc(100% / ${draft.columns}) 100%`,
          }}>
            {draft.charts.map((c) => <ChartCell key={c.key} chart={c} selected={selected === c.key} grid={grid} columns={draft.columns}
              onSelect={() => setSelected(selected === c.key ? null : c.key)}
              onLayout={(layout) => set({ ...draft, charts: draft.charts.map((x) => (x.key === c.key ? { ...x, layout } : x)) })} />)}
          </div>
        </section>
      </div>
    </section>
  )
}
