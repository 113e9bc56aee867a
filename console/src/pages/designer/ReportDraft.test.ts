import { describe, expect, it } from 'vitest'
import {
  clampLayout, emptyDraft, gridColumns, regrid, moveLayout, newDimension, nextPlace, placeChartProblem, placeProblem, problemsByControl, resizeLayout,
  toDashDefinition, toDashDraft, toDefinition, toDraft, type Json,
} from './ReportDraft'

const SHIPPED = {
  name: 'backlog', title: 'Backlog', description: 'Open orders', translations: { 'zh-CN': { title: '积压', description: '未完成' } },
  form: 'work_order', time_zone: 'Asia/Shanghai', filter: "priority != 'low'",
  dimensions: [
    { name: 'week', field: 'coalesce(reported_at, $created_at)', bucket: 'week', label: 'Week', translations: { 'zh-CN': { label: '周' } } },
    { name: 'priority', field: 'priority' },
  ],
  scope: ['region'],
  measures: [
    { name: 'open', op: 'count', label: 'Open', translations: { 'zh-CN': { label: '未完成' } } },
    { name: 'hours', op: 'duration', start: 'reported_at', end: 'completed_at', unit: 'hours' },
    { name: 'ftf', op: 'count', where: 'first_time_fix' },
    { name: 'rate', op: 'ratio', numerator: 'ftf', denominator: 'open', scale: 100 },
  ],
  sort: [{ by: 'open', desc: true }, { by: 'priority' }], limit: 10, compare: 'week',
}

describe('report draft ↔ definition', () => {
  it('round-trips a full definition, keeping keys it has no control for', () => {
    expect(toDefinition(toDraft(SHIPPED as unknown as Record<string, Json>), 'backlog')).toEqual(SHIPPED)
  })

  it('leaves empty controls out and sets the zh-CN labels as translations', () => {
    const draft = emptyDraft('work_order')
    draft.dimensions.push({ ...newDimension('reported_at', [], 'month'), labelZh: '月份' })
    draft.measures[0].label = 'Orders'
    draft.titleZh = '按月'
    expect(toDefinition(draft, 'by_month')).toEqual({
      name: 'by_month', title: '按月', translations: { 'zh-CN': { title: '按月' } }, form: 'work_order',
      dimensions: [{ name: 'reported_at_month', field: 'reported_at', bucket: 'month', translations: { 'zh-CN': { label: '月份' } } }],
      measures: [{ name: 'count', op: 'count', label: 'Orders' }],
    })
  })

  it('keeps only the inputs the measure op takes', () => {
    const draft = toDraft(SHIPPED as unknown as Record<string, Json>)
    draft.measures[0] = { ...draft.measures[0], op: 'sum', field: 'contract_price', start: 'x', numerator: 'y' }
    expect((toDefinition(draft, 'b').measures as Json[])[0]).toEqual(
      { name: 'open', op: 'sum', field: 'contract_price', label: 'Open', translations: { 'zh-CN': { label: '未完成' } } })
  })

  it('sends a limit that is not a number as text, for the server to refuse at its control', () => {
    const draft = emptyDraft('work_order')
    draft.limit = 'ten'
    expect(toDefinition(draft, 'r').limit).toBe('ten')
  })
})

describe('server problems at their controls', () => {
  const draft = toDraft(SHIPPED as unknown as Record<string, Json>)
  const [d0, d1] = draft.dimensions
  const [m0] = draft.measures

  it('maps item paths to the item by its key', () => {
    expect(placeProblem('dimensions[1].field', 'unknown', draft)).toMatchObject({ section: 'dimensions', key: d1.key, prop: 'field' })
    expect(placeProblem('measures[0].name', 'twice', draft)).toMatchObject({ section: 'measures', key: m0.key, prop: 'name' })
    expect(placeProblem('sort[1].by', 'x', draft)).toMatchObject({ section: 'sort', key: draft.sort[1].key, prop: 'by' })
    expect(placeProblem('dimensions[0].translations.zh-CN', 'x', draft)).toMatchObject({ key: d0.key, prop: 'labelZh' })
  })

  it('maps report-level paths to their control', () => {
    expect(placeProblem('time_zone', 'x', draft)).toMatchObject({ section: 'report', prop: 'timeZone' })
    expect(placeProblem('scope[0]', 'x', draft)).toMatchObject({ section: 'report', prop: 'scope' })
    expect(placeProblem('', 'unknown time zone', draft)).toMatchObject({ section: 'report', prop: '' })
    expect(placeProblem('measures', 'must not be empty', draft)).toMatchObject({ section: 'measures', key: null })
  })

  it('groups problems by control id, a missing measure input at that input', () => {
    const byControl = problemsByControl([
      { path: 'dimensions[0].field', message: "unknown field 'x'" },
      { path: 'measures[0]', message: "op 'sum' needs field" },
      { path: 'limit', message: 'must be at least 1' },
      { path: '', message: 'unknown time zone' },
    ], draft)
    expect(byControl).toEqual({
      [`rd-dimensions-${d0.key}-field`]: ["unknown field 'x'"],
      [`rd-measures-${m0.key}-field`]: ["op 'sum' needs field"],
      'rd-limit': ['must be at least 1'],
      'rd-report': ['unknown time zone'],
    })
  })
})

describe('dashboard grid', () => {
  it('keeps a chart on the 24 columns', () => {
    expect(clampLayout({ x: 20, y: -3, w: 8, h: 0 })).toEqual({ x: 16, y: 0, w: 8, h: 1 })
    expect(moveLayout({ x: 0, y: 0, w: 6, h: 4 }, -1, 0)).toEqual({ x: 0, y: 0, w: 6, h: 4 })
    expect(moveLayout({ x: 18, y: 0, w: 6, h: 4 }, 1, 2)).toEqual({ x: 18, y: 2, w: 6, h: 4 })
    expect(resizeLayout({ x: 18, y: 0, w: 6, h: 4 }, 2, 1)).toEqual({ x: 16, y: 0, w: 8, h: 5 })
    expect(resizeLayout({ x: 0, y: 0, w: 1, h: 1 }, -1, -1)).toEqual({ x: 0, y: 0, w: 1, h: 1 })
  })

  it('places a new chart beside the last row, else below', () => {
    expect(nextPlace([])).toEqual({ x: 0, y: 0, w: 12, h: 5 })
    const one = toDashDraft({ charts: [{ id: 'a', type: 'bar', report: 'r', layout: { x: 0, y: 0, w: 12, h: 5 } }] }).charts
    expect(nextPlace(one)).toEqual({ x: 12, y: 0, w: 12, h: 5 })
    const two = toDashDraft({ charts: [{ id: 'a', type: 'bar', report: 'r', layout: { x: 0, y: 0, w: 18, h: 5 } }] }).charts
    expect(nextPlace(two)).toEqual({ x: 0, y: 5, w: 12, h: 5 })
  })

  it('round-trips a dashboard and places chart problems', () => {
    const def = {
      name: 'ops', title: 'Ops', translations: { 'zh-CN': { title: '运营' } },
      charts: [{ id: 'by_p', type: 'bar', report: 'r', x: 'priority', y: 'orders', layout: { x: 0, y: 0, w: 12, h: 5 }, title: 'By priority' }],
    }
    const draft = toDashDraft(def as unknown as Record<string, Json>)
    expect(toDashDefinition(draft, 'ops')).toEqual(def)
    expect(placeChartProblem('charts[0].y', draft)).toEqual({ key: draft.charts[0].key, prop: 'y' })
    expect(placeChartProblem('title', draft)).toEqual({ key: null, prop: 'title' })
  })
})

describe('chart and title problems', () => {
  it('puts a chart problem at its picker and a title one at the title', () => {
    const draft = emptyDraft('work_order')
    expect(problemsByControl([{ path: 'chart.x', message: 'x' }, { path: 'title', message: 't' }], draft))
      .toEqual({ 'rd-chart-x': ['x'], 'rd-titleEn': ['t'] })
  })
})


describe('the dashboard grid', () => {
  const board = (columns: number | undefined, ...layouts: { x: number; w: number }[]) => ({
    name: 'b', ...(columns ? { columns } : {}),
    charts: layouts.map((l, i) => ({ id: `c${i}`, type: 'table', report: 'r', layout: { y: 0, h: 4, ...l } })),
  })
  it('is the dashboard page\'s grid: columns as written, else 12 when every chart fits, else 24', () => {
    expect(gridColumns(board(undefined, { x: 0, w: 8 }, { x: 8, w: 4 }))).toBe(12)
    expect(gridColumns(board(undefined, { x: 8, w: 6 }))).toBe(24)
    expect(gridColumns(board(24, { x: 0, w: 6 }))).toBe(24)
  })
  it('keeps a 12-column dashboard on 12 columns through the draft, and writes the grid out', () => {
    const draft = toDashDraft(board(undefined, { x: 8, w: 4 }))
    expect(draft.columns).toBe(12)
    expect(draft.charts[0].layout).toEqual({ x: 8, y: 0, w: 4, h: 4 })
    const out = toDashDefinition(draft, 'b') as { columns?: number; charts: { layout: unknown }[] }
    expect(out.columns).toBeUndefined() // the charts say it
    expect((toDashDefinition(regrid(toDashDraft(board(undefined, { x: 0, w: 6 })), 24), 'b') as { columns?: number }).columns).toBe(24)
    expect((toDashDefinition(toDashDraft(board(24, { x: 0, w: 6 })), 'b') as { columns?: number }).columns).toBe(24)
    expect(out.charts[0].layout).toEqual({ x: 8, y: 0, w: 4, h: 4 })
    expect(clampLayout({ x: 10, y: 0, w: 6, h: 4 }, 12)).toEqual({ x: 6, y: 0, w: 6, h: 4 })
  })
  it('scales every chart when the grid changes, so the picture stays the same', () => {
    const draft = toDashDraft(board(undefined, { x: 0, w: 8 }, { x: 8, w: 4 }))
    const fine = regrid(draft, 24)
    expect(fine.columns).toBe(24)
    expect(fine.charts.map((c) => [c.layout.x, c.layout.w])).toEqual([[0, 16], [16, 8]])
    expect(regrid(fine, 12).charts.map((c) => [c.layout.x, c.layout.w])).toEqual([[0, 8], [8, 4]])
    expect(regrid(draft, 12)).toBe(draft)
  })
})
