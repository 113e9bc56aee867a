// The reports part of a change's impact: each report the migration job lists, as sentences in the
// console's language (what it reads, where, what the move does to it; how many records count elsewhere).
import { cleanup, render, screen, within } from '@testing-library/react'
import { afterEach, describe, expect, it } from 'vitest'
import i18n from '../../lib/i18n'
import ReportImpactList from './ReportImpactList'
import { countText, inputText, moveText, placeText, whyText, type ReportImpact } from './reportImpact'

afterEach(cleanup)

const BY_STATUS: ReportImpact = {
  report: 'orders_by_region_status', version: 1, title: 'Work orders per region and status',
  titles: { en: 'Work orders per region and status', 'zh-CN': '各区域及状态工单数' }, records: 2, regrouped: 2, remeasured: 0,
  why: [{ input: '$state', kind: 'state', read_by: ['dimension:status'], records: 2, states: { Review: { Triage: 2 } } }],
  moves: [{ from: ['north', 'Review'], to: ['north', 'Triage'], records: 2 }],
}
const HOURS: ReportImpact = {
  report: 'hours', version: 3, title: 'Hours in work', records: 3, regrouped: 1, remeasured: 2,
  why: [{ input: 'hours', kind: 'value', read_by: ['measure:hours', 'filter'], records: 2 },
    { input: 'priority', kind: 'retyped', read_by: ['scope'], records: 0, types: { from: 'select', to: 'text' } },
    { input: '$state', kind: 'state_named', read_by: ['filter'], records: 0, names: ['Working'] },
    { input: 'size', kind: 'removed', read_by: ['rows'], records: 0 },
    { input: '$updated_at', kind: 'value', read_by: ['dimension:month'], records: 1 }],
  moves: [{ from: [], to: null, records: 1 }],
}

describe('the reports a migration rebuilds', () => {
  it('says why in English', async () => {
    await i18n.changeLanguage('en')
    const t = i18n.t
    expect(placeText('dimension:status', t)).toBe('dimension status')
    expect(placeText('filter', t)).toBe('its filter')
    expect(inputText('$state', t)).toBe('the state')
    expect(inputText('hours', t)).toBe('hours')
    expect(whyText(BY_STATUS.why[0], t, (s) => `«${s}»`)).toBe('reads the state (dimension status): «Review» → «Triage» (2 records)')
    expect(HOURS.why.map((w) => whyText(w, t))).toEqual([
      'reads hours (measure hours, its filter), which the migration changes on 2 records',
      'reads priority (its permission scope), whose type changes from select to text',
      'its filter names the state Working, which the new version no longer has',
      'reads size (its rows (sub-table)), which the new version removes',
      'reads the time of the last change (dimension month): the migration writes 1 record'])
    expect(countText(BY_STATUS, t)).toBe('2 records would count elsewhere (2 move between its groups)')
    expect(countText(HOURS, t)).toBe('3 records would count elsewhere (1 moves between its groups; 2 change its measures)')
    expect(countText({ ...HOURS, records: 0, regrouped: 0, remeasured: 0 }, t)).toBe('no record read so far would count elsewhere')
    expect(moveText(BY_STATUS.moves[0], t)).toBe('north · Review → north · Triage: 2 records')
    expect(moveText(HOURS.moves[0], t)).toBe('(the whole report) → (not counted): 1 record')
  })

  it('says why in Chinese', async () => {
    await i18n.changeLanguage('zh-CN')
    const t = i18n.t
    expect(whyText(BY_STATUS.why[0], t)).toBe('读取状态（维度 status）：Review → Triage（2 条）')
    expect(whyText(HOURS.why[3], t)).toBe('读取 size（明细行（子表）），新版本删除了该字段')
    expect(countText(HOURS, t)).toBe('3 条记录将改计到别处（1 条换到其他分组；2 条改变度量值）')
    expect(countText(BY_STATUS, t)).toBe('2 条记录将改计到别处（2 条换到其他分组）')
  })

  it('lists each report with its title, why and records; or says none would change', async () => {
    await i18n.changeLanguage('en')
    render(<ReportImpactList reports={[BY_STATUS, HOURS]} compared={4} />)
    const list = screen.getByRole('list', { name: 'Reports whose numbers would be rebuilt' })
    const first = within(list).getAllByRole('listitem')[0]
    expect(first.textContent).toContain('Work orders per region and status')
    expect(screen.getByTestId('report-impact-orders_by_region_status').textContent).toBe('2 records would count elsewhere (2 move between its groups)')
    expect(within(first).getByText('reads the state (dimension status): Review → Triage (2 records)')).toBeTruthy()
    expect(screen.getByText('3 report versions compared; the report definitions are read once for the whole job.')).toBeTruthy()
    cleanup()
    render(<ReportImpactList reports={[]} compared={1} />)
    expect(screen.getByText('No report over this form would change its numbers.')).toBeTruthy()
    cleanup()
    await i18n.changeLanguage('zh-CN')  // the page switched language after the job answered
    render(<ReportImpactList reports={[BY_STATUS]} compared={2} />)
    expect(screen.getByRole('list', { name: '将重建数字的报表' }).textContent).toContain('各区域及状态工单数')
    cleanup()
    const { container } = render(<ReportImpactList reports={undefined} compared={undefined} />)
    expect(container.textContent).toBe('')
  })
})
