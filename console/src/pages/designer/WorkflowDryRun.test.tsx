// The dry run panel against a mocked API: a record picked among the recent ones, an action of the
// DRAFT, the draft sent with the record and the action; the answer's path, task and change shown; a
// refusal's problem at the field it names; a record whose state the draft lacks is said so.
import { QueryClient, QueryClientProvider } from '@tanstack/react-query'
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import '../../lib/i18n'
import i18n from '../../lib/i18n'
import WorkflowDryRun from './WorkflowDryRun'
import type { WorkflowDef } from './WorkflowModel'
import type { DryRunResult } from './WorkflowDryRunModel'

vi.mock('../../lib/config', () => ({ config: () => ({ apiUrl: 'https://api.example', auth: 'local' }) }))
const get = vi.fn()
const post = vi.fn()
vi.mock('../../lib/api', async (original) => ({
  ...(await original<typeof import('../../lib/api')>()),
  get: (path: string) => get(path),
  post: (path: string, body: unknown) => post(path, body),
}))

const DEF: WorkflowDef = { name: 'claim', StartAt: 'Open', States: {
  Open: { Type: 'Task', Label: 'Open', Assignee: { Role: 'agent' }, Actions: { submit: { Label: 'Submit', Next: 'Check', Requires: ['amount'] } } },
  Check: { Type: 'Choice', Choices: [{ Variable: '$.amount', NumericGreaterThan: 1000, Next: 'Approve' }], Default: 'Done' },
  Approve: { Type: 'Approval', Label: 'Manager approval', Mode: 'single', Approvers: { Role: 'manager' }, OnApprove: 'Done', OnReject: 'Open' },
  Done: { Type: 'Succeed' } } }
const FIELDS = [{ name: 'amount', type: 'number', label: 'Amount' }, { name: 'reason', type: 'text', label: 'Reason' }]
const RECORDS = { items: [
  { id: 'R1', number: 'CL-1', data: { reason: 'Cracked screen' }, workflow: { state: 'Open', status: 'running', assignees: ['user:ann'] } },
  { id: 'R2', number: 'CL-2', data: { reason: 'Lost' }, workflow: { state: 'Gone', status: 'running', assignees: [] } },
] }
const BASE: Omit<DryRunResult, 'allowed' | 'problems' | 'path' | 'end' | 'tasks' | 'changes' | 'effects'> = {
  workflow: { name: 'claim', version: null, draft: true }, record: { id: 'R1', number: 'CL-1', version: 1, state: 'Open', status: 'running' },
  action: 'submit', actor: { user: 'ann', roles: ['agent'] }, start: { state: 'Open', label: 'Open', type: 'Task' },
  timers: { set: [], cleared: [], kept: [] }, events: [], written: false,
}

afterEach(() => { cleanup(); get.mockReset(); post.mockReset() })

function show() {
  get.mockResolvedValue(RECORDS)
  render(<QueryClientProvider client={new QueryClient()}><WorkflowDryRun name="claim" def={DEF} fields={FIELDS} /></QueryClientProvider>)
}

describe('the dry run panel', () => {
  it('runs an action of the draft on a record and shows what would happen', async () => {
    await i18n.changeLanguage('en')
    show()
    await screen.findByRole('option', { name: 'CL-1 · Open' })
    fireEvent.change(screen.getByLabelText('Find a record (number, state or text)'), { target: { value: 'cracked' } })
    expect(screen.queryByRole('option', { name: /CL-2/ })).toBeNull()
    fireEvent.change(screen.getByLabelText('Record'), { target: { value: 'R1' } })
    expect((screen.getByLabelText('Taken by (member id)') as HTMLInputElement).value).toBe('ann') // the assignee suggested
    fireEvent.change(screen.getByLabelText('Action in Open (from the draft)'), { target: { value: 'submit' } })
    fireEvent.change(screen.getByLabelText(/^Amount/), { target: { value: '5000' } }) // its missing required field, ready
    post.mockResolvedValue({ ...BASE, allowed: true, problems: [],
      path: [{ state: 'Check', label: 'Check', type: 'Choice', json_path: 'States.Check', steps: [], caught: null,
        choice: { rule: 0, next: 'Approve', matched: 'amount > 1000', json_path: 'States.Check.Choices[0]' } },
      { state: 'Approve', label: 'Manager approval', type: 'Approval', json_path: 'States.Approve', steps: [], caught: null, choice: null }],
      end: { state: 'Approve', label: 'Manager approval', type: 'Approval', status: 'running', error: null },
      tasks: [{ assignee: 'role:manager', kind: 'approval', state: 'Approve', due_at: null, new: true, members: ['mgr.zhao'], members_more: 0 }],
      changes: [{ field: 'amount', before: null, after: 5000 }],
      effects: [{ kind: 'notification', text: '', detail: { kind: 'approval.requested', to: 'role:manager', title: 'x' } }] })
    fireEvent.click(screen.getByRole('button', { name: 'Run the dry run' }))
    await screen.findByText('Allowed: the record would come to rest in Approve. Nothing was written.')
    expect(post).toHaveBeenCalledWith('/workflows/claim/dry-run', { record_id: 'R1', action: 'submit', definition: DEF, data: { amount: 5000 }, as_user: 'ann' })
    const path = within(screen.getByRole('list', { name: 'Path' })).getAllByRole('listitem').map((li) => li.textContent)
    expect(path[0]).toMatch(/^Open \(task\) — where it rests now/)
    expect(path[1]).toMatch(/Check \(choice\) — rule 1 matched: amount > 1000 → Approve/)
    expect(path[2]).toMatch(/Manager approval \(Approve\)/)
    expect(screen.getByTestId('dry-task').textContent).toMatch(/role manager · approval.*mgr\.zhao/)
    expect(screen.getByTestId('dry-change').textContent).toMatch(/Amount.*—.*5000/)
    expect(screen.getByTestId('dry-effect').textContent).toMatch(/Approval requested: CL-1 \(Approve\).*role manager/)
  })

  it('shows a refusal at the field it names, and a record the draft cannot run', async () => {
    await i18n.changeLanguage('en')
    show()
    await screen.findByRole('option', { name: 'CL-1 · Open' })
    fireEvent.change(screen.getByLabelText('Record'), { target: { value: 'R1' } })
    fireEvent.change(screen.getByLabelText('Action in Open (from the draft)'), { target: { value: 'submit' } })
    post.mockResolvedValue({ ...BASE, allowed: false, path: [], end: null, tasks: [], changes: [], effects: [],
      problems: [{ kind: 'required', code: 'action_requires_fields', path: 'data.amount', message: 'is required for this action', summary: "action 'submit' needs these fields" }] })
    fireEvent.click(screen.getByRole('button', { name: 'Run the dry run' }))
    await screen.findByText('Not allowed: see why below. Nothing was written.')
    const amount = screen.getByLabelText(/^Amount/)
    await waitFor(() => expect(amount.getAttribute('aria-invalid')).toBe('true'))
    expect(document.getElementById(amount.getAttribute('aria-describedby')!)!.textContent).toBe('is required for this action')
    expect(screen.getByTestId('dry-problem').textContent).toMatch(/Required: data\.amount is required for this action.*at Amount/)
    fireEvent.change(screen.getByLabelText('Record'), { target: { value: 'R2' } })
    expect(screen.getByRole('alert').textContent).toMatch(/rests in Gone, which the draft does not have/)
    expect((screen.getByRole('button', { name: 'Run the dry run' }) as HTMLButtonElement).disabled).toBe(true)
  })
})
