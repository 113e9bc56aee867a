// West of UTC, where a month used to slip into the one before (Node applies a changed TZ at once).
(globalThis as unknown as { process: { env: Record<string, string> } }).process.env.TZ = 'America/Los_Angeles'

import { QueryClient, QueryClientProvider } from '@tanstack/react-query'
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react'
import { MemoryRouter, Route, Routes, useLocation } from 'react-router'
import embed from 'vega-embed'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import '../lib/i18n'
import { signIn } from '../lib/auth'
import type { FormNav, Navigation } from '../lib/types'
import Dashboard, { drillLink, NO_FETCH, showTooltip, type ChartBody, type DashboardBody } from './Dashboard'

vi.mock('../lib/config', () => ({ config: () => ({ apiUrl: 'https://api.example', auth: 'local' }) }))
const get = vi.fn()
vi.mock('../lib/api', async (original) => ({ ...(await original<typeof import('../lib/api')>()), get: (path: string) => get(path) }))

// What GET /dashboards/{name} returns for these charts (chalicelib/reports/dashboard.py, same rows).
const FTF_SPEC = {
  $schema: 'https://vega.github.io/schema/vega-lite/v5.json', title: 'First-time-fix %',
  data: {
    values: [{ month: '2026-08', rate: 70 }, { month: '2026-09', rate: 80 }, { month: '2026-10', rate: 75 }],
    format: { parse: { month: "utc:'%Y-%m'" } },
  },
  mark: { type: 'line', point: true },
  encoding: {
    x: {
      field: 'month', type: 'temporal', timeUnit: 'utcyearmonth', scale: { type: 'utc' }, title: 'Month',
      axis: { values: [8, 9, 10].map((month) => ({ year: 2026, month, date: 1, utc: true })), tickMinStep: 28 * 86_400_000,
        format: '%Y-%m', labelOverlap: true },
    },
    y: { field: 'rate', type: 'quantitative', title: 'First-time-fix %' },
  },
}
const ROWS = [{ region: 'north', status: 'Open', orders: 3 }, { region: 'north', status: 'Closed', orders: 5 },
  { region: 'south', status: 'Open', orders: 3 }, { region: 'south', status: 'Closed', orders: 5 }]
const PIE: ChartBody = {
  id: 'status_mix', type: 'pie', title: 'Orders by status', report: 'orders_by_region_status', x: 'status', y: 'orders', color: null,
  layout: { x: 8, y: 8, w: 4, h: 4 }, description: 'Every work order by service region and workflow state.', form: 'work_order',
  dimensions: [{ name: 'region', label: 'Region', bucket: null, title: null, filter: 'region' },
    { name: 'status', label: 'Status', bucket: null, title: null, filter: null }],
  measures: [{ name: 'orders', label: 'Orders', op: 'count' }], rows: ROWS,
  vega_lite: {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json', title: 'Orders by status', data: { values: ROWS },
    transform: [{ aggregate: [{ op: 'sum', field: 'orders', as: 'orders' }], groupby: ['status'] }],
    mark: { type: 'arc' },
    encoding: { theta: { field: 'orders', type: 'quantitative' }, color: { field: 'status', type: 'nominal', title: 'Status' } },
  },
}
const BAR: ChartBody = {
  ...PIE, id: 'orders_by_region', type: 'bar', title: 'Orders per region and status', x: 'region', color: 'status',
  layout: { x: 0, y: 0, w: 8, h: 4 },
  vega_lite: {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json', data: { values: ROWS }, mark: { type: 'bar' },
    encoding: { x: { field: 'region', type: 'nominal', sort: null }, y: { field: 'orders', type: 'quantitative' },
      color: { field: 'status', type: 'nominal' } },
  },
}
const TABLE: ChartBody = { ...PIE, id: 'engineers', type: 'table', title: 'Engineer productivity', layout: { x: 0, y: 4, w: 6, h: 4 } }
const EMPTY: ChartBody = { ...PIE, id: 'ftf', title: 'First-time-fix %', rows: [], vega_lite: { ...PIE.vega_lite, data: { values: [] } } }
const DENIED: ChartBody = { ...PIE, id: 'sla', title: 'SLA', rows: undefined, vega_lite: undefined, error: { code: 'forbidden', message: 'no' } }

const FORMS = [{ name: 'work_order', title: 'Work order', filters: [{ name: 'region', label: 'Service region', type: 'select' }] }] as FormNav[]
const NAV = { user: { id: 'mgr', name: 'Mgr', roles: ['manager'], tenant: 'demo' }, forms: FORMS, admin: false,
  dashboards: [{ name: 'service_overview', title: 'After-sales service overview' }], reports: [] } as Navigation
const BOARD: DashboardBody = { dashboard: 'service_overview', title: 'After-sales service overview', description: 'What a manager watches.',
  version: 1, charts: [BAR, PIE, TABLE, EMPTY, DENIED] }

function Where() {
  const location = useLocation()
  return <p data-testid="where">{location.pathname + location.search}</p>
}

function page() {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } })
  client.setQueryData(['navigation'], NAV)
  return render(
    <QueryClientProvider client={client}>
      <MemoryRouter initialEntries={['/dashboards/service_overview']}>
        <Routes>
          <Route path="/dashboards/:name" element={<Dashboard />} />
          <Route path="/forms/:form" element={<Where />} />
        </Routes>
      </MemoryRouter>
    </QueryClientProvider>,
  )
}

beforeEach(() => {
  get.mockImplementation(async (path: string) => {
    if (path === '/navigation') return NAV
    if (path === '/dashboards/service_overview') return BOARD
    throw new Error(`unexpected GET ${path}`)
  })
  signIn({ token: 'secret-token', user: 'mgr' })
})
afterEach(() => {
  cleanup()
  vi.unstubAllGlobals()
  vi.restoreAllMocks()
})

describe('drill-down links', () => {
  it('filter the form’s record list by the indexed dimensions a mark stands for', () => {
    expect(drillLink(BAR, { region: 'north', status: 'Open', orders: 3 }, FORMS)).toBe('/forms/work_order?filter.region=north')
    expect(drillLink(PIE, { status: 'Open', orders: 6 }, FORMS)).toBeNull() // $state is no record-list filter
    expect(drillLink(BAR, { region: '', status: 'Open' }, FORMS)).toBeNull()
    expect(drillLink(BAR, { region: 'north' }, [{ ...FORMS[0], filters: [] }])).toBeNull() // not a filter for this caller
    expect(drillLink(BAR, { region: 'a&b=c' }, FORMS)).toBe('/forms/work_order?filter.region=a%26b%3Dc')
  })
})

describe('Vega runs with nothing to fetch', () => {
  it('refuses every URL and file', async () => {
    await expect(NO_FETCH.load('https://evil.example/data.json')).rejects.toThrow()
    await expect(NO_FETCH.sanitize('https://evil.example/x.png', { context: 'href' })).rejects.toThrow()
    await expect(NO_FETCH.http('https://evil.example', {})).rejects.toThrow()
    await expect(NO_FETCH.file('/etc/passwd')).rejects.toThrow()
  })
  it('never fetches a spec’s data URL', async () => {
    const fetch = vi.fn(async () => new Response('[{"a": 1}]'))
    vi.stubGlobal('fetch', fetch)
    const element = document.createElement('div')
    document.body.appendChild(element)
    const result = await embed(element, { data: { url: 'https://evil.example/data.json' }, mark: 'bar', encoding: { x: { field: 'a', type: 'nominal' } } },
      { renderer: 'svg', actions: false, loader: NO_FETCH, logLevel: 0 })
    await result.view.runAsync().catch(() => undefined)
    expect(fetch).not.toHaveBeenCalled()
    result.finalize()
  })
})

describe('monthly buckets west of UTC', () => {
  it('draw one tick per month, none shifted into the month before', async () => {
    expect(new Date(Date.UTC(2026, 9, 1)).getDate()).toBe(30) // the browser's local time is west of UTC
    const element = document.createElement('div')
    document.body.appendChild(element)
    const result = await embed(element, { ...FTF_SPEC, width: 600 } as never, { renderer: 'svg', actions: false, loader: NO_FETCH, ast: true })
    const labels = [...element.querySelectorAll('.role-axis-label text')].map((t) => t.textContent)
    expect(labels.filter((l) => /^\d{4}-\d{2}$/.test(l ?? ''))).toEqual(['2026-08', '2026-09', '2026-10'])
    result.finalize()
  })
})

describe('tooltips', () => {
  it('are text, never HTML', () => {
    showTooltip(null, new MouseEvent('mousemove', { clientX: 5, clientY: 5 }), null, { Part: '<img src=x onerror=alert(1)>' })
    const tip = document.querySelector('.chart-tooltip')!
    expect(tip.querySelector('img')).toBeNull()
    expect(tip.textContent).toBe('Part: <img src=x onerror=alert(1)>')
    expect(tip.getAttribute('aria-hidden')).toBe('true')
  })
})

describe('Dashboard page', () => {
  it('draws every chart with a title, description and data table, and says why a chart is missing', async () => {
    page()
    expect(await screen.findByRole('heading', { level: 1, name: 'After-sales service overview' })).toBeTruthy()
    const pie = await screen.findByRole('figure', { name: 'Orders by status' })
    expect(pie.getAttribute('aria-describedby')).toBeTruthy()
    await waitFor(() => expect(pie.querySelector('.chart-canvas svg')).toBeTruthy())
    const canvas = pie.querySelector('.chart-canvas')!
    expect(canvas.getAttribute('role')).toBe('graphics-document')
    expect(canvas.getAttribute('aria-label')).toBe('Orders by status. Every work order by service region and workflow state.')
    const arcs = pie.querySelectorAll('.mark-arc path')
    expect(arcs.length).toBe(2) // one wedge per status, not one per region and status
    const table = within(within(pie).getByText('Data table').closest('details')!).getByRole('table')
    expect(within(table).getAllByRole('row')).toHaveLength(ROWS.length + 1)
    // a table chart is a table, not a drawing
    const engineers = screen.getByRole('figure', { name: 'Engineer productivity' })
    expect(engineers.querySelector('svg')).toBeNull()
    expect(within(engineers).getByRole('table')).toBeTruthy()
    expect(within(screen.getByRole('figure', { name: 'SLA' })).getByText(/cannot be shown: no/)).toBeTruthy()
    // no rows: said in words, not drawn as an empty (and unlabelled) SVG
    const empty = screen.getByRole('figure', { name: 'First-time-fix %' })
    expect(within(empty).getByText('No data yet.')).toBeTruthy()
    expect(empty.querySelector('svg')).toBeNull()
  })

  it('opens the matching records from a mark and from the data table', async () => {
    page()
    const bar = await screen.findByRole('figure', { name: 'Orders per region and status' })
    await waitFor(() => expect(bar.querySelectorAll('.mark-rect path').length).toBe(4))
    fireEvent.click(bar.querySelectorAll('.mark-rect path')[0])
    expect((await screen.findByTestId('where')).textContent).toBe('/forms/work_order?filter.region=north')
  })

  it('table rows link to their records', async () => {
    page()
    const engineers = await screen.findByRole('figure', { name: 'Engineer productivity' })
    const links = within(engineers).getAllByRole('link', { name: 'south' })
    expect(links[0].getAttribute('href')).toBe('/forms/work_order?filter.region=south')
  })

  it('exports CSV with the token in a header, never in the URL, through a Blob URL', async () => {
    const fetch = vi.fn(async () => new Response('region,orders\r\nnorth,8\r\n', { status: 200, headers: { 'Content-Type': 'text/csv' } }))
    vi.stubGlobal('fetch', fetch)
    const created = vi.fn(() => 'blob:https://console.example/1')
    URL.createObjectURL = created
    URL.revokeObjectURL = vi.fn()
    const clicked = vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      expect(this.href).toBe('blob:https://console.example/1')
      expect(this.download).toBe('orders_by_region_status.csv')
    })
    page()
    const pie = await screen.findByRole('figure', { name: 'Orders by status' })
    fireEvent.click(within(pie).getByRole('button', { name: 'Export CSV: Orders by status' }))
    await waitFor(() => expect(clicked).toHaveBeenCalled())
    const [url, init] = fetch.mock.calls[0] as unknown as [string, RequestInit]
    expect(url).toBe('https://api.example/reports/orders_by_region_status/csv')
    expect(url).not.toContain('secret-token')
    expect((init.headers as Record<string, string>).Authorization).toBe('Bearer secret-token')
    expect(created).toHaveBeenCalled()
  })
})
