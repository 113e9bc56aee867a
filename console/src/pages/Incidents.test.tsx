// The record page's incidents: asked for only when a timer is past due; the failure in words; an
// admin's retry and dismissal (with a comment) go to the API and refresh the record.
import { QueryClient, QueryClientProvider } from '@tanstack/react-query'
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import '../lib/i18n'
import Incidents, { pastDue, type Incident } from './Incidents'

vi.mock('../lib/config', () => ({ config: () => ({ apiUrl: 'https://api.example', auth: 'local' }) }))
const get = vi.fn()
const post = vi.fn()
vi.mock('../lib/api', async (original) => ({ ...(await original<typeof import('../lib/api')>()),
  get: (path: string) => get(path), post: (path: string, body: unknown) => post(path, body) }))

const BASE = '/forms/ticket/records/r1'
const WAIT: Incident = { source: 'timer', name: 'deadline:response', state: 'Pause', due_at: '2026-12-01T10:00:00.000Z', failures: 3,
  failed_since: '2026-12-01T10:01:00.000Z', last_failed_at: '2026-12-01T10:20:00.000Z', next_try_at: '2026-12-01T11:20:00.000Z',
  error: { code: 'validation_failed', message: 'CreateRecord: the new note record is invalid (CreateRecord.data.text: too long)' } }

function show(admin: boolean, timers = [{ name: WAIT.name, due_at: WAIT.due_at }]) {
  const onChange = vi.fn()
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } })
  render(
    <QueryClientProvider client={client}>
      <Incidents base={BASE} timers={timers} admin={admin} label={(name) => (name === WAIT.name ? 'Response' : name)} onChange={onChange} />
    </QueryClientProvider>,
  )
  return onChange
}

afterEach(() => {
  cleanup()
  vi.resetAllMocks()
})

describe('incidents on a record', () => {
  it('are asked for only when a timer is past due', () => {
    expect(pastDue([{ due_at: '2026-12-01T10:00:00Z' }], Date.parse('2026-12-01T09:00:00Z'))).toBe(false)
    expect(pastDue([{ due_at: '2026-12-01T10:00:00Z' }], Date.parse('2026-12-01T10:00:01Z'))).toBe(true)
    show(true, [{ name: 'later', due_at: new Date(Date.now() + 3_600_000).toISOString() }])
    expect(get).not.toHaveBeenCalled()
  })

  it('say which step failed, why, how often and since when; a reader gets no buttons', async () => {
    get.mockResolvedValue({ items: [WAIT] })
    show(false)
    expect(await screen.findByRole('heading', { name: 'Incidents' })).toBeTruthy()
    expect(get).toHaveBeenCalledWith(`${BASE}/incidents`)
    expect(screen.getByText(/^Response failed 3 time\(s\) since/)).toBeTruthy()
    expect(screen.getByText(/CreateRecord\.data\.text: too long/)).toBeTruthy()
    expect(screen.queryByRole('button')).toBeNull()
  })

  it('an admin retries now, or dismisses with a comment', async () => {
    get.mockResolvedValue({ items: [WAIT] })
    post.mockResolvedValue({})
    const onChange = show(true)
    const dismiss = await screen.findByRole('button', { name: 'Dismiss' })
    expect((dismiss as HTMLButtonElement).disabled).toBe(true) // no comment yet
    fireEvent.click(screen.getByRole('button', { name: 'Retry now' }))
    await waitFor(() => expect(post).toHaveBeenCalledWith(`${BASE}/incidents/deadline%3Aresponse/retry`, {}))
    await waitFor(() => expect(onChange).toHaveBeenCalled())
    fireEvent.change(screen.getByLabelText('Why dismiss it (kept in the history)'), { target: { value: 'not needed' } })
    fireEvent.click(screen.getByRole('button', { name: 'Dismiss' }))
    await waitFor(() => expect(post).toHaveBeenCalledWith(`${BASE}/incidents/deadline%3Aresponse/dismiss`, { comment: 'not needed' }))
  })
})
