// The report designer against a mocked API: a stored report loads into its controls, the draft is
// previewed (debounced), the server's 422 is shown at the control its path names, and once fixed the
// preview's bound and rows are shown.
import { QueryClient, QueryClientProvider } from '@tanstack/react-query'
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react'
import { MemoryRouter, Route, Routes } from 'react-router'
import { afterEach, describe, expect, it, vi } from 'vitest'
import '../../lib/i18n'
import { ApiError } from '../../lib/api'
import ReportDesigner from './ReportDesigner'

vi.mock('../../lib/config', () => ({ config: () => ({ apiUrl: 'https://api.example', auth: 'local' }) }))
const get = vi.fn()
const post = vi.fn()
vi.mock('../../lib/api', async (original) => ({
  ...(await original<typeof import('../../lib/api')>()),
  get: (path: string) => get(path),
  post: (path: string, body: unknown) => post(path, body),
}))

const STORED = {
  name: 'orders', title: 'Orders', form: 'work_order', scope: ['region'],
  dimensions: [{ name: 'priority', field: 'priorty' }], measures: [{ name: 'orders', op: 'count' }],
}
const ANSWERS: Record<string, unknown> = {
  '/navigation': { forms: [{ name: 'work_order', title: 'Work order' }], dashboards: [] },
  '/definitions/report/orders': { latest: 1, published: 1 },
  '/definitions/report/orders/versions/1': { definition: STORED },
  '/definitions/form/work_order': { latest: 2, published: 2 },
  '/definitions/form/work_order/versions/2': { definition: { fields: [{ name: 'priority', type: 'select' }, { name: 'reported_at', type: 'datetime' }] } },
}

afterEach(() => { cleanup(); get.mockReset(); post.mockReset() })

describe('ReportDesigner', () => {
  it('shows the server problem at its control, then the preview once fixed', async () => {
    get.mockImplementation(async (path: string) => {
      if (path in ANSWERS) return ANSWERS[path]
      throw new ApiError(404, 'not_found', path)
    })
    post.mockImplementation(async (path: string, body: { definition: { dimensions: { field: string }[] } }) => {
      expect(path).toBe('/reports/orders/preview')
      if (body.definition.dimensions[0].field !== 'priority') {
        throw new ApiError(422, 'invalid_definition', 'report definition is invalid', [{ path: 'dimensions[0].field', message: "unknown field 'priorty'" }])
      }
      return {
        rows: [{ priority: 'urgent', orders: 2 }, { priority: 'normal', orders: 1 }], records_read: 3, complete: true, bound: 500,
        dimensions: [{ name: 'priority', label: 'Priority', bucket: null, title: null }], measures: [{ name: 'orders', label: 'Orders', op: 'count' }],
      }
    })
    render(
      <QueryClientProvider client={new QueryClient({ defaultOptions: { queries: { retry: false } } })}>
        <MemoryRouter initialEntries={['/admin/reports/orders']}>
          <Routes><Route path="/admin/reports/:name" element={<ReportDesigner />} /></Routes>
        </MemoryRouter>
      </QueryClientProvider>,
    )
    const field = await screen.findByLabelText('Field of dimension 1')
    expect((field as HTMLInputElement).value).toBe('priorty')
    await waitFor(() => expect(field.getAttribute('aria-invalid')).toBe('true'), { timeout: 3000 })
    expect(document.getElementById(field.getAttribute('aria-describedby')!)?.textContent).toContain("unknown field 'priorty'")
    // the bucket is offered for a date field only
    expect((screen.getByLabelText('Time bucket of dimension 1') as HTMLSelectElement).disabled).toBe(true)

    fireEvent.change(field, { target: { value: 'priority' } })
    await screen.findByText('Computed over all 3 records of the form (complete).', {}, { timeout: 3000 })
    expect(field.getAttribute('aria-invalid')).toBeNull()
    const table = screen.getByRole('table', { name: 'Rows of Orders' })
    expect([...table.querySelectorAll('tbody tr')].map((r) => r.textContent)).toEqual(['urgent2', 'normal1'])
    const sent = post.mock.calls.at(-1)![1] as { definition: unknown; chart: unknown }
    expect(sent.chart).toEqual({ type: 'bar', x: 'priority', y: 'orders' })
    expect(sent.definition).toEqual({ ...STORED, dimensions: [{ name: 'priority', field: 'priority' }] })

    fireEvent.change(field, { target: { value: 'reported_at' } })
    await waitFor(() => expect((screen.getByLabelText('Time bucket of dimension 1') as HTMLSelectElement).disabled).toBe(false))
  })
})
