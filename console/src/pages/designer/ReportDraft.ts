// The report and dashboard designers' pure parts (issue 15): a report definition (chalicelib/reports/
// definition.py) ↔ the designer's draft (every control a string, each list item with a stable key), a
// server problem's path (`dimensions[0].field`) → the control it concerns, and a dashboard's charts on the
// dashboard's grid of 12 or 24 columns (chalicelib/reports/dashboard.py: Layout, columns) moved and resized within its bounds.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json }
type Obj = { [key: string]: Json }

export const BUCKETS = ['hour', 'day', 'week', 'month', 'quarter', 'year'] as const
export const OPS = ['count', 'sum', 'avg', 'min', 'max', 'distinct', 'duration', 'ratio'] as const
export const UNITS = ['seconds', 'minutes', 'hours', 'days'] as const
export const CHART_TYPES = ['bar', 'line', 'pie', 'number', 'table', 'ranking'] as const
export const DATE_TYPES = new Set(['date', 'datetime'])
export const NAME = /^[a-z][a-z0-9_]{0,62}$/
export const COLUMNS = 24

export type Op = (typeof OPS)[number]
export type ChartType = (typeof CHART_TYPES)[number]

export interface DraftDimension { key: string; name: string; field: string; bucket: string; label: string; labelZh: string; rest: Obj }
export interface DraftMeasure {
  key: string; name: string; op: Op; field: string; where: string; start: string; end: string; unit: string
  numerator: string; denominator: string; label: string; labelZh: string; rest: Obj
}
export interface DraftSort { key: string; by: string; desc: boolean }
export interface ReportDraft {
  title: string; titleZh: string; form: string; filter: string; timeZone: string
  /** hidden group-by fields, comma separated */
  scope: string
  dimensions: DraftDimension[]; measures: DraftMeasure[]; sort: DraftSort[]
  limit: string
  /** a bucketed dimension's name: each row gets the previous period's figures too */
  compare: string
  /** keys the designer has no control for (rows, compare, description, …), kept as they were */
  rest: Obj
}

let counter = 0
export const newKey = (prefix = 'k') => `${prefix}${++counter}`

const str = (v: Json | undefined): string => (v === null || v === undefined ? '' : String(v))
const zh = (node: Obj, key: string): string => str(((node.translations as Obj | undefined)?.['zh-CN'] as Obj | undefined)?.[key])
const without = (node: Obj, keys: string[]): Obj => Object.fromEntries(Object.entries(node).filter(([k]) => !keys.includes(k)))
const withTranslation = (node: Obj, rest: Obj, key: string, text: string): Obj => {
  const translations = { ...((rest.translations as Obj | undefined) ?? {}) }
  const zhCN = { ...((translations['zh-CN'] as Obj | undefined) ?? {}) }
  if (text.trim()) zhCN[key] = text.trim()
  else delete zhCN[key]
  if (Object.keys(zhCN).length) translations['zh-CN'] = zhCN
  else delete translations['zh-CN']
  return Object.keys(translations).length ? { ...node, translations } : node
}

export function emptyDraft(form = ''): ReportDraft {
  return { title: '', titleZh: '', form, filter: '', timeZone: 'UTC', scope: '', dimensions: [], measures: [newMeasure([])], sort: [], limit: '', compare: '', rest: {} }
}

/** A name not yet used by the draft's dimensions and measures, from `base`. */
export function freeName(base: string, used: string[]): string {
  const clean = base.toLowerCase().replace(/[^a-z0-9_]+/g, '_').replace(/^[^a-z]+/, '').slice(0, 50) || 'item'
  if (!used.includes(clean)) return clean
  for (let i = 2; ; i++) if (!used.includes(`${clean}_${i}`)) return `${clean}_${i}`
}

export const usedNames = (draft: ReportDraft) => [...draft.dimensions.map((d) => d.name), ...draft.measures.map((m) => m.name)]

export function newDimension(field: string, used: string[], bucket = ''): DraftDimension {
  return { key: newKey('d'), name: freeName(bucket ? `${field}_${bucket}` : field, used), field, bucket, label: '', labelZh: '', rest: {} }
}

export function newMeasure(used: string[], op: Op = 'count', field = ''): DraftMeasure {
  return {
    key: newKey('m'), name: freeName(op === 'count' ? 'count' : `${op}_${field || 'value'}`, used), op, field, where: '', start: '', end: '',
    unit: 'seconds', numerator: '', denominator: '', label: '', labelZh: '', rest: {},
  }
}

export function toDraft(definition: Obj): ReportDraft {
  const dims = (definition.dimensions as Obj[] | undefined) ?? []
  const measures = (definition.measures as Obj[] | undefined) ?? []
  const sort = (definition.sort as Obj[] | undefined) ?? []
  return {
    title: str(definition.title), titleZh: zh(definition, 'title'), form: str(definition.form), filter: str(definition.filter),
    timeZone: str(definition.time_zone) || 'UTC', scope: ((definition.scope as string[] | undefined) ?? []).join(', '),
    dimensions: dims.map((d) => ({
      key: newKey('d'), name: str(d.name), field: str(d.field), bucket: str(d.bucket), label: str(d.label), labelZh: zh(d, 'label'),
      rest: without(d, ['name', 'field', 'bucket', 'label']),
    })),
    measures: measures.map((m) => ({
      key: newKey('m'), name: str(m.name), op: (str(m.op) || 'count') as Op, field: str(m.field), where: str(m.where), start: str(m.start),
      end: str(m.end), unit: str(m.unit) || 'seconds', numerator: str(m.numerator), denominator: str(m.denominator), label: str(m.label),
      labelZh: zh(m, 'label'), rest: without(m, ['name', 'op', 'field', 'where', 'start', 'end', 'unit', 'numerator', 'denominator', 'label']),
    })),
    sort: sort.map((s) => ({ key: newKey('s'), by: str(s.by), desc: s.desc === true })),
    limit: definition.limit === undefined || definition.limit === null ? '' : String(definition.limit),
    compare: str(definition.compare),
    rest: without(definition, ['name', 'title', 'form', 'filter', 'time_zone', 'scope', 'dimensions', 'measures', 'sort', 'limit', 'compare']),
  }
}

/** The definition the draft stands for (empty controls left out, so the model's defaults apply). */
export function toDefinition(draft: ReportDraft, name: string): Obj {
  const out: Obj = { name }
  if (draft.title.trim()) out.title = draft.title.trim()
  Object.assign(out, withTranslation({}, draft.rest, 'title', draft.titleZh))
  out.form = draft.form
  if (draft.filter.trim()) out.filter = draft.filter.trim()
  if (draft.timeZone.trim() && draft.timeZone.trim() !== 'UTC') out.time_zone = draft.timeZone.trim()
  const scope = draft.scope.split(',').map((s) => s.trim()).filter(Boolean)
  if (scope.length) out.scope = scope
  out.dimensions = draft.dimensions.map((d) => {
    const node: Obj = { ...without(d.rest, ['translations']), name: d.name, field: d.field }
    if (d.bucket) node.bucket = d.bucket
    if (d.label.trim()) node.label = d.label.trim()
    return withTranslation(node, d.rest, 'label', d.labelZh)
  })
  out.measures = draft.measures.map((m) => {
    const node: Obj = { ...without(m.rest, ['translations']), name: m.name, op: m.op }
    const keep = (key: string, value: string) => { if (value.trim()) node[key] = value.trim() }
    if (m.op === 'ratio') {
      keep('numerator', m.numerator)
      keep('denominator', m.denominator)
    } else if (m.op === 'duration') {
      keep('start', m.start)
      keep('end', m.end)
      if (m.unit && m.unit !== 'seconds') node.unit = m.unit
    } else {
      keep('field', m.field)
    }
    if (m.op !== 'ratio') keep('where', m.where)
    keep('label', m.label)
    return withTranslation(node, m.rest, 'label', m.labelZh)
  })
  if (draft.sort.length) out.sort = draft.sort.map((s): Obj => (s.desc ? { by: s.by, desc: true } : { by: s.by }))
  if (draft.limit.trim()) out.limit = /^\d+$/.test(draft.limit.trim()) ? Number(draft.limit.trim()) : draft.limit.trim()
  if (draft.compare) out.compare = draft.compare
  for (const [k, v] of Object.entries(draft.rest)) if (k !== 'translations' && !(k in out)) out[k] = v
  if (!draft.title.trim() && draft.titleZh.trim()) out.title = draft.titleZh.trim()
  return out
}

// --- problems at their controls -------------------------------------------------------------------------------

export type Section = 'report' | 'dimensions' | 'measures' | 'sort'
export interface Placed { path: string; message: string; section: Section; key: string | null; prop: string }

/** The control a problem's path concerns: the list item (by its key in the draft that was sent) and its
 *  property, or a report-level control (`form`, `filter`, `scope`, `limit`, …; `''` = the report as a whole). */
export function placeProblem(path: string, message: string, draft: ReportDraft): Placed {
  const item = /^(dimensions|measures|sort)\[(\d+)\](?:\.([a-z_]+))?/.exec(path)
  if (item) {
    const section = item[1] as 'dimensions' | 'measures' | 'sort'
    const list: { key: string }[] = draft[section]
    const key = list[Number(item[2])]?.key ?? null
    let prop = item[3] ?? ''
    if (prop === 'translations') prop = 'labelZh'
    return { path, message, section, key, prop }
  }
  const chart = /^chart\.([a-z_]+)/.exec(path)
  if (chart) return { path, message, section: 'report', key: null, prop: `chart-${chart[1]}` }
  const top = /^([a-z_]+)/.exec(path)?.[1] ?? ''
  if (top === 'dimensions' || top === 'measures' || top === 'sort') return { path, message, section: top, key: null, prop: '' }
  const prop = { time_zone: 'timeZone', translations: 'titleZh', title: 'titleEn' }[top] ?? top
  return { path, message, section: 'report', key: null, prop }
}

/** The id of the control a placed problem is shown at (and which is aria-invalid). */
export function controlId(placed: Pick<Placed, 'section' | 'key' | 'prop'>): string {
  if (placed.section === 'report') return `rd-${placed.prop || 'report'}`
  return placed.key ? `rd-${placed.section}-${placed.key}-${placed.prop || 'item'}` : `rd-${placed.section}`
}

/** Every control id the draft's controls have (a problem elsewhere is shown above them all). */
export function controlIds(draft: ReportDraft): Set<string> {
  const ids = ['form', 'titleEn', 'titleZh', 'filter', 'scope', 'timeZone', 'limit', 'compare', 'chart-type', 'chart-x', 'chart-y', 'chart-color']
    .map((p) => `rd-${p}`)
  ids.push('rd-dimensions', 'rd-measures', 'rd-sort')
  for (const d of draft.dimensions) for (const p of ['item', 'field', 'bucket', 'name', 'label', 'labelZh']) ids.push(`rd-dimensions-${d.key}-${p}`)
  for (const m of draft.measures) {
    const inputs = m.op === 'ratio' ? ['numerator', 'denominator'] : m.op === 'duration' ? ['start', 'end', 'unit', 'where'] : ['field', 'where']
    for (const p of ['item', 'op', 'name', 'label', 'labelZh', ...inputs]) ids.push(`rd-measures-${m.key}-${p}`)
  }
  for (const s of draft.sort) ids.push(`rd-sort-${s.key}-by`)
  return new Set(ids)
}

/** Problems grouped by control id. A measure's own shape ("op 'sum' needs field", at `measures[0]`) is
 *  put at the input it is missing when the message names it. */
export function problemsByControl(problems: { path: string; message: string }[], draft: ReportDraft): Record<string, string[]> {
  const out: Record<string, string[]> = {}
  for (const problem of problems) {
    const placed = placeProblem(problem.path, problem.message, draft)
    if (placed.section === 'measures' && placed.key && !placed.prop) {
      const named = /needs ([a-z_]+)/.exec(problem.message)?.[1]
      if (named) placed.prop = named
    }
    const id = controlId(placed)
    ;(out[id] ??= []).push(problem.message)
  }
  return out
}

// --- dashboards -----------------------------------------------------------------------------------------------

export interface Layout { x: number; y: number; w: number; h: number }
export interface DraftChart {
  key: string; id: string; type: ChartType; report: string; title: string; titleZh: string
  x: string; y: string; color: string; limit: string; layout: Layout; rest: Obj
}
export interface DashDraft { title: string; titleZh: string; columns: Columns; charts: DraftChart[]; rest: Obj }
export type Columns = 12 | 24

/** A layout kept on a grid of `columns`: 1 ≤ w ≤ columns, x + w ≤ columns, 1 ≤ h ≤ 50, 0 ≤ y ≤ 1000. */
export function clampLayout(l: Layout, columns: number = COLUMNS): Layout {
  const int = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, Math.round(Number.isFinite(v) ? v : lo)))
  const w = int(l.w, 1, columns)
  return { x: int(l.x, 0, columns - w), y: int(l.y, 0, 1000), w, h: int(l.h, 1, 50) }
}

export const moveLayout = (l: Layout, dx: number, dy: number, columns: number = COLUMNS) =>
  clampLayout({ ...l, x: l.x + dx, y: l.y + dy }, columns)
export const resizeLayout = (l: Layout, dw: number, dh: number, columns: number = COLUMNS) => {
  const w = Math.min(columns, Math.max(1, l.w + dw))
  return clampLayout({ ...l, w, x: Math.min(l.x, columns - w), h: l.h + dh }, columns)
}

/** The grid a dashboard is drawn on, as the server says (reports/dashboard.py grid_columns): its `columns`,
 *  else 12 when every chart fits in 12, else 24. */
export function gridColumns(definition: Obj): Columns {
  if (definition.columns === 12 || definition.columns === 24) return definition.columns
  const charts = (definition.charts as Obj[] | undefined) ?? []
  const fits = charts.every((c) => { const l = (c.layout ?? {}) as unknown as Partial<Layout>; return (l.x ?? 0) + (l.w ?? 6) <= 12 })
  return fits ? 12 : 24
}

/** The same picture on the other grid: every chart's x and w scaled (12 → 24 doubles them, 24 → 12 halves them). */
export function regrid(draft: DashDraft, columns: Columns): DashDraft {
  if (columns === draft.columns) return draft
  const scale = columns / draft.columns
  return {
    ...draft, columns,
    charts: draft.charts.map((c) => ({
      ...c, layout: clampLayout({ ...c.layout, x: Math.floor(c.layout.x * scale), w: Math.max(1, Math.round(c.layout.w * scale)) }, columns),
    })),
  }
}

/** The first free place for a new chart of w × h: below every chart already placed. */
export function nextPlace(charts: DraftChart[], w = 12, h = 5, columns: number = COLUMNS): Layout {
  const bottom = Math.max(0, ...charts.map((c) => c.layout.y + c.layout.h))
  const last = charts.filter((c) => c.layout.y + c.layout.h === bottom)
  const right = Math.max(0, ...last.map((c) => c.layout.x + c.layout.w))
  if (charts.length && right + w <= columns) {
    const row = Math.min(...last.map((c) => c.layout.y))
    return { x: right, y: row, w, h }
  }
  return { x: 0, y: bottom, w, h }
}

export function toDashDraft(definition: Obj): DashDraft {
  const columns = gridColumns(definition)
  return {
    title: str(definition.title), titleZh: zh(definition, 'title'), columns,
    charts: ((definition.charts as Obj[] | undefined) ?? []).map((c) => ({
      key: newKey('c'), id: str(c.id), type: (str(c.type) || 'bar') as ChartType, report: str(c.report), title: str(c.title), titleZh: zh(c, 'title'),
      x: str(c.x), y: str(c.y), color: str(c.color), limit: c.limit === undefined || c.limit === null ? '' : String(c.limit),
      layout: clampLayout({ x: 0, y: 0, w: 6, h: 4, ...((c.layout as unknown as Partial<Layout>) ?? {}) }, columns),
      rest: without(c, ['id', 'type', 'report', 'title', 'x', 'y', 'color', 'limit', 'layout']),
    })),
    rest: without(definition, ['name', 'title', 'charts', 'columns']),
  }
}

/** The chart's {type, x, y, color, limit} as the API takes it (empty ones left out). */
export function chartBinding(c: Pick<DraftChart, 'type' | 'x' | 'y' | 'color'> & { limit?: string }): Obj {
  const out: Obj = { type: c.type }
  if (c.x) out.x = c.x
  if (c.y) out.y = c.y
  if (c.color) out.color = c.color
  if (c.limit && /^\d+$/.test(c.limit)) out.limit = Number(c.limit)
  return out
}

export function toDashDefinition(draft: DashDraft, name: string): Obj {
  const out: Obj = { name }
  if (draft.title.trim()) out.title = draft.title.trim()
  Object.assign(out, withTranslation({}, draft.rest, 'title', draft.titleZh))
  out.charts = draft.charts.map((c) => {
    const node: Obj = { ...without(c.rest, ['translations']), id: c.id, report: c.report, ...chartBinding(c), layout: { ...clampLayout(c.layout, draft.columns) } }
    if (c.title.trim()) node.title = c.title.trim()
    return withTranslation(node, c.rest, 'title', c.titleZh)
  })
  for (const [k, v] of Object.entries(draft.rest)) if (k !== 'translations' && !(k in out)) out[k] = v
  // the grid, written when the charts alone would not say it (every chart within 12 columns of a 24-column grid)
  if (gridColumns({ charts: out.charts }) !== draft.columns) out.columns = draft.columns
  return out
}

/** `charts[2].x` → the chart's key and property (a dashboard problem at its control). */
export function placeChartProblem(path: string, draft: DashDraft): { key: string | null; prop: string } {
  const m = /^charts\[(\d+)\](?:\.([a-z_]+))?/.exec(path)
  if (!m) return { key: null, prop: /^([a-z_]+)/.exec(path)?.[1] ?? '' }
  return { key: draft.charts[Number(m[1])]?.key ?? null, prop: m[2] ?? '' }
}
