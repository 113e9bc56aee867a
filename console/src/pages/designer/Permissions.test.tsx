// The permissions page on a fake API: a grant ticked in the grid is summarised, checked and saved on the
// version published now (one published since the page loaded keeps what it changed); a draft check's
// problem at permissions.rows.<role> is shown at that role's rule input.
import { QueryClient, QueryClientProvider } from '@tanstack/react-query'
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react'
import { MemoryRouter } from 'react-router'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import i18n from '../../lib/i18n'
import Permissions from './Permissions'

vi.mock('../../lib/config', () => ({ config: () => ({ apiUrl: 'https://api.example', auth: 'local' }) }))

const V1 = {
  name: 'customer', title: 'Customer', translations: { 'zh-CN': { title: '客户' } },
  fields: [{ name: 'name', type: 'text', label: 'Name' }, { name: 'email', type: 'email', label: 'E-mail' }],
  permissions: { create: ['agent'], read: ['*'], update: ['agent'], delete: ['admin'] },
}
const V2 = { ...V1, fields: [...V1.fields, { name: 'vip', type: 'checkbox', label: 'VIP' }] } // published meanwhile
let published = 1 // what the server has published
let listed = 1 // what GET /definitions says (1 until the page saves)
let checkProblems: { path: string; message: string }[] = []
const saved: any[] = []
const checked: any[] = []

const get = vi.fn(async (path: string): Promise<any> => {
  if (path === '/definitions') return { items: [{ kind: 'form', name: 'customer', latest: listed, published: listed }, { kind: 'workflow', name: 'x', latest: 1, published: 1 }] }
  if (path === '/members') return { items: [{ user_id: 'mgr', roles: ['manager'] }] }
  if (path === '/definitions/form/customer') return { latest: published, published }
  if (path === '/definitions/form/customer/versions/1') return { definition: V1 }
  if (path === '/definitions/form/customer/versions/2') return { definition: V2 }
  if (path === '/definitions/form/customer/versions/3') return { definition: saved[0] }
  throw new Error(`unexpected GET ${path}`)
})
const post = vi.fn(async (path: string, body: any): Promise<any> => {
  if (path === '/forms/customer/expressions/check') {
    return /regoin/.test(body.expression)
      ? { valid: false, error: { message: "unknown field 'regoin' (did you mean 'region'?)", position: 0 }, fields: [] }
      : { valid: true, error: null, fields: ['region'] }
  }
  if (path === '/definitions/form/customer/check') { checked.push(body); return { valid: !checkProblems.length, problems: checkProblems } }
  if (path === '/definitions/form/customer/versions') { saved.push(body); published += 1; listed = published; return { version: published } }
  throw new Error(`unexpected POST ${path}`)
})
vi.mock('../../lib/api', async (original) => ({ ...(await original<typeof import('../../lib/api')>()), get: (p: string) => get(p), post: (p: string, b: unknown) => post(p, b) }))

function show() {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } })
  render(
    <QueryClientProvider client={client}>
      <MemoryRouter initialEntries={['/admin/permissions']}><Permissions /></MemoryRouter>
    </QueryClientProvider>,
  )
}

beforeEach(async () => {
  published = 1
  listed = 1
  checkProblems = []
  saved.length = 0
  checked.length = 0
  await i18n.changeLanguage('en')
})
afterEach(cleanup)

describe('the permissions page', () => {
  it('saves a grant on the version published since the page loaded', async () => {
    show()
    const box = await screen.findByRole('checkbox', { name: 'manager may Update Customer' })
    expect((box as HTMLInputElement).checked).toBe(false)
    expect((screen.getByRole('checkbox', { name: 'every member (*) may Read Customer' }) as HTMLInputElement).checked).toBe(true)
    fireEvent.click(box)
    expect(await screen.findByText('manager may now Update Customer')).toBeTruthy()
    published = 2
    fireEvent.click(screen.getByRole('button', { name: 'Save and publish 1 form' }))
    await screen.findByText('Saved and published: Customer v3. Customer: made on v2, published since.')
    expect(saved).toHaveLength(1)
    expect(saved[0].fields.map((f: any) => f.name)).toEqual(['name', 'email', 'vip']) // v2's field kept
    expect(saved[0].permissions).toEqual({ ...V1.permissions, update: ['agent', 'manager'] })
    expect(checked[0]).toEqual(saved[0]) // what was checked is what was saved
    await screen.findByText('customer v3')
    expect((screen.getByRole('checkbox', { name: 'manager may Update Customer' }) as HTMLInputElement).checked).toBe(true)
    expect(screen.getByText('No changes yet.')).toBeTruthy()
  })

  it('shows the typing check and the draft check at the rule input', async () => {
    show()
    await screen.findByRole('checkbox', { name: 'manager may Update Customer' })
    fireEvent.change(screen.getByLabelText('Add a role'), { target: { value: 'dispatcher' } })
    fireEvent.click(screen.getByRole('button', { name: 'Add role' }))
    expect(screen.getByRole('checkbox', { name: 'dispatcher may Read Customer' })).toBeTruthy() // a role no one holds yet
    fireEvent.click(await screen.findByRole('button', { name: /^Fields and row rules\s*Customer$/ }))
    fireEvent.click(screen.getByRole('checkbox', { name: 'Hide E-mail from manager' }))
    // '*' still reads customers: hiding from manager alone does not hide it from them
    expect(screen.getByText(/manager reads Customer as every member \(\*\) too/)).toBeTruthy()
    const rule = screen.getByLabelText('Row rule of manager on Customer')
    fireEvent.change(rule, { target: { value: "regoin == 'north'" } })
    expect((await screen.findByText(/did you mean 'region'/)).closest('[role=alert]')).toBeTruthy()
    await waitFor(() => expect(rule.getAttribute('aria-invalid')).toBe('true'))
    fireEvent.change(rule, { target: { value: '$id != null' } })
    await screen.findByText(/The rule is valid/, undefined, { timeout: 2000 })
    checkProblems = [{ path: 'permissions.rows.manager', message: "unknown variable '$id'" }]
    fireEvent.click(screen.getByRole('button', { name: 'Check' }))
    const problem = await screen.findByText("unknown variable '$id'")
    expect(problem.closest('[data-problem-for]')?.getAttribute('data-problem-for')).toBe('rule-customer-manager')
    expect(screen.getByRole('status').textContent).toBe('1 problem: see the cells marked.')
    expect(screen.getByText('Customer: E-mail is now hidden from manager')).toBeTruthy()
    expect(saved).toHaveLength(0)
  })
})
