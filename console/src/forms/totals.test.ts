import { describe, expect, it } from 'vitest'
import { columnScale, columnTotals, formatDuration } from './totals'

const UNITS = { h: 'h', min: 'min', s: 's' }
// the shipped work order's sub-tables as GET /forms/work_order/schema draws them (nullable columns)
const nullable = (s: Record<string, any>) => ({ anyOf: [s, { type: 'null' }], ...Object.fromEntries(Object.entries(s).filter(([k]) => k.startsWith('x-'))) })
const parts = {
  type: 'object',
  properties: {
    line_id: nullable({ type: 'string', 'x-type': 'text' }),
    quantity: nullable({ type: 'integer', 'x-type': 'number' }),
    unit_price: nullable({ type: 'number', multipleOf: 0.01, 'x-type': 'money', 'x-currency': 'CNY' }),
    line_total: { readOnly: true, 'x-type': 'computed', 'x-expression': 'quantity * unit_price', 'x-scale': 2, 'x-total': true },
  },
}
const visits = {
  type: 'object',
  properties: {
    checkin_distance_m: nullable({ type: 'integer', 'x-type': 'number' }),
    on_site_seconds: nullable({ type: 'integer', 'x-type': 'duration', 'x-unit': 'seconds', 'x-total': true }),
  },
}

describe('columnTotals', () => {
  it('sums only the columns marked x-total, in their own format', () => {
    const rows = [{ line_id: 'a', quantity: 2, unit_price: 120, line_total: 240 }, { line_id: 'b', quantity: 3, unit_price: 35.5, line_total: 106.5 }]
    expect(columnTotals(parts, rows, 'en', UNITS)).toEqual({ line_total: '346.50' })
    const stays = [{ checkin_distance_m: 75, on_site_seconds: 5400 }, { checkin_distance_m: 80, on_site_seconds: 1800 }]
    expect(columnTotals(visits, stays, 'en', UNITS)).toEqual({ on_site_seconds: '2 h 00 min' })
    expect(columnTotals(visits, stays, 'zh-CN', { h: '小时', min: '分', s: '秒' })).toEqual({ on_site_seconds: '2 小时 00 分' })
  })
  it('adds decimals exactly and formats money with its currency', () => {
    const money = { properties: { amount: nullable({ type: 'number', multipleOf: 0.01, 'x-type': 'money', 'x-currency': 'EUR', 'x-total': true }) } }
    const rows = [{ amount: 0.1 }, { amount: 0.2 }, { amount: 1234 }, { amount: null }, {}]
    expect(columnTotals(money, rows, 'en', UNITS)).toEqual({ amount: '1,234.30 EUR' })
    expect(columnTotals(money, [{}], 'en', UNITS)).toEqual({}) // nothing to sum: no total
  })
})

describe('formatDuration and columnScale', () => {
  it('write durations as the report does', () => {
    expect(formatDuration(750, UNITS)).toBe('12 min 30 s')
    expect(formatDuration(3900, UNITS)).toBe('1 h 05 min')
  })
  it('read the scale from the schema', () => {
    expect(columnScale({ type: 'number', multipleOf: 0.001 })).toBe(3)
    expect(columnScale({ type: 'integer' })).toBe(0)
    expect(columnScale({ 'x-type': 'computed', 'x-scale': 4 })).toBe(4)
  })
})
