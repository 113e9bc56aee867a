// The designer's side panel: a state's name, labels, actions and Next edited as form controls, each
// edit handed on as a new definition (the one shown is never changed in place).
import { cleanup, fireEvent, render, screen } from '@testing-library/react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import '../../lib/i18n'
import i18n from '../../lib/i18n'
import WorkflowStatePanel from './WorkflowStatePanel'
import type { WorkflowDef } from './WorkflowModel'

const DEF: WorkflowDef = { name: 'note', StartAt: 'Open', States: {
  Open: { Type: 'Task', Label: 'Open', Assignee: { Role: 'agent' }, Editable: ['text'], Actions: { close: { Label: 'Close', Next: 'Done' } } },
  Check: { Type: 'Choice', Choices: [{ Variable: '$.level', StringEquals: 'a', Next: 'Done' }], Default: 'Open' },
  Sign: { Type: 'Approval', Mode: 'single', Approvers: { Role: 'manager' }, OnApprove: 'Done', OnReject: 'Open' },
  Done: { Type: 'Succeed' } } }
const FIELDS = [{ name: 'text', type: 'text', label: 'Text' }, { name: 'level', type: 'select', label: 'Level' }, { name: 'checklist', type: 'subtable', label: 'Checklist' },
  { name: 'engineer', type: 'user', label: 'Engineer' }, { name: 'qty', type: 'number', label: 'Quantity' }]

afterEach(cleanup)

function show(name: string, def: WorkflowDef = DEF) {
  const onChange = vi.fn()
  const onRename = vi.fn(() => null)
  const view = render(<WorkflowStatePanel def={def} name={name} fields={FIELDS} problems={['unknown state']} onChange={onChange} onRename={onRename} onDelete={vi.fn()} />)
  // the panel as the designer draws it: every change shown again, so the next edit builds on it
  onChange.mockImplementation((next: WorkflowDef) => view.rerender(
    <WorkflowStatePanel def={next} name={name} fields={FIELDS} problems={[]} onChange={onChange} onRename={onRename} onDelete={vi.fn()} />))
  return { onChange, onRename, last: () => onChange.mock.lastCall![0] as WorkflowDef }
}

describe('the state panel', () => {
  it('edits a task: label, editable fields, an action’s Next, comment required; renames', async () => {
    await i18n.changeLanguage('en')
    const { onChange, onRename } = show('Open')
    expect(screen.getByText('⚠ unknown state')).toBeTruthy()
    fireEvent.change(screen.getAllByLabelText('Label (中文)')[0], { target: { value: '处理中' } })
    expect(onChange.mock.calls[0][0].States.Open.Translations['zh-CN'].Label).toBe('处理中')
    fireEvent.click(screen.getByLabelText('Level'))
    expect(onChange.mock.calls[1][0].States.Open.Editable).toEqual(['text', 'level'])
    fireEvent.change(screen.getByLabelText('Next of action close'), { target: { value: 'Check' } })
    expect(onChange.mock.calls[2][0].States.Open.Actions.close.Next).toBe('Check')
    fireEvent.click(screen.getByLabelText('Comment required'))
    expect(onChange.mock.calls[3][0].States.Open.Actions.close.CommentRequired).toBe(true)
    expect(DEF.States.Open.Actions.close.Next).toBe('Done')
    fireEvent.change(screen.getByLabelText('State name'), { target: { value: 'Working' } })
    fireEvent.click(screen.getByRole('button', { name: 'Rename' }))
    expect(onRename).toHaveBeenCalledWith('Working')
  })

  it('offers a sub-table as an editable field and a required one, never as a choice variable', async () => {
    await i18n.changeLanguage('en')
    const { onChange } = show('Open')
    fireEvent.click(screen.getByRole('checkbox', { name: 'Checklist' }))
    expect(onChange.mock.calls[0][0].States.Open.Editable).toEqual(['text', 'checklist'])
    expect(screen.getByRole('option', { name: 'Checklist' })).toBeTruthy() // in the action's Requires
    cleanup()
    show('Check')
    expect(screen.queryByRole('option', { name: 'Checklist' })).toBeNull()
  })

  it('edits a choice rule and the Default', async () => {
    await i18n.changeLanguage('en')
    const { onChange } = show('Check')
    fireEvent.change(screen.getByLabelText('Operator of rule 1'), { target: { value: 'NumericGreaterThan' } })
    expect(onChange.mock.calls[0][0].States.Check.Choices[0]).toEqual({ Variable: '$.level', NumericGreaterThan: 0, Next: 'Done' })
    fireEvent.change(screen.getByLabelText('Value of rule 1'), { target: { value: '7' } })
    expect(onChange.mock.calls[1][0].States.Check.Choices[0].NumericGreaterThan).toBe(7)
    fireEvent.change(screen.getByLabelText('Default of Check'), { target: { value: '' } })
    expect('Default' in onChange.mock.calls[2][0].States.Check).toBe(false)
    expect(DEF.States.Check.Choices[0].StringEquals).toBe('a')
  })

  it('builds a compound rule as a tree: and(level = "a", not(qty > 5))', async () => {
    await i18n.changeLanguage('en')
    const { last } = show('Check')
    fireEvent.change(screen.getByLabelText('Kind of rule 1'), { target: { value: 'And' } })
    expect(last().States.Check.Choices[0]).toEqual({ And: [{ Variable: '$.level', StringEquals: 'a' }, { Variable: '', StringEquals: '' }], Next: 'Done' })
    fireEvent.change(screen.getByLabelText('Kind of rule 1.2'), { target: { value: 'Not' } })
    fireEvent.change(screen.getByLabelText('Field of rule 1.2.1'), { target: { value: 'qty' } })
    fireEvent.change(screen.getByLabelText('Operator of rule 1.2.1'), { target: { value: 'NumericGreaterThan' } })
    fireEvent.change(screen.getByLabelText('Value of rule 1.2.1'), { target: { value: '5' } })
    expect(last().States.Check.Choices[0]).toEqual({ And: [{ Variable: '$.level', StringEquals: 'a' }, { Not: { Variable: '$.qty', NumericGreaterThan: 5 } }], Next: 'Done' })
    fireEvent.click(screen.getByRole('button', { name: 'Add a rule to 1' }))
    fireEvent.change(screen.getByLabelText('Kind of rule 1.3'), { target: { value: 'Condition' } })
    fireEvent.change(screen.getByLabelText('Expression of rule 1.3'), { target: { value: "text != ''" } })
    expect(last().States.Check.Choices[0].And[2]).toEqual({ Condition: "text != ''" })
    fireEvent.click(screen.getByRole('button', { name: 'Remove rule 1.1' }))
    expect(last().States.Check.Choices[0].And).toHaveLength(2)
    expect(screen.getByRole('list', { name: 'Rules of 1: all of (and)' })).toBeTruthy()
    expect(screen.getByLabelText('Next of rule 1')).toBeTruthy()
  })

  it('edits a task assignee of every kind, with a fallback', async () => {
    await i18n.changeLanguage('en')
    const { last } = show('Open')
    fireEvent.change(screen.getByLabelText('Assignee: who'), { target: { value: 'Lookup' } })
    fireEvent.change(screen.getByLabelText('Assignee: other form'), { target: { value: 'region' } })
    fireEvent.change(screen.getByLabelText('Assignee: match field (other form)'), { target: { value: 'code' } })
    fireEvent.change(screen.getByLabelText("Assignee: equals this record's field"), { target: { value: 'level' } })
    fireEvent.change(screen.getByLabelText('Assignee: user field (other form)'), { target: { value: 'supervisor' } })
    fireEvent.click(screen.getByRole('button', { name: 'Add a fallback to Assignee' }))
    fireEvent.change(screen.getByLabelText('Fallback of Assignee: role'), { target: { value: 'admin' } })
    expect(last().States.Open.Assignee).toEqual({ Lookup: { Form: 'region', MatchField: 'code', ValueField: 'level', UserField: 'supervisor' }, Fallback: { Role: 'admin' } })
    fireEvent.change(screen.getByLabelText('Assignee: who'), { target: { value: 'Field' } })
    fireEvent.change(screen.getByLabelText('Assignee: user field'), { target: { value: 'engineer' } })
    expect(last().States.Open.Assignee).toEqual({ Field: 'engineer', Fallback: { Role: 'admin' } })
    fireEvent.change(screen.getByLabelText('Assignee: who'), { target: { value: 'Users' } })
    fireEvent.change(screen.getByLabelText('Assignee: users (comma-separated)'), { target: { value: 'ann.lee, bo.chen,' } })
    expect(last().States.Open.Assignee.Users).toEqual(['ann.lee', 'bo.chen'])
    expect((screen.getByLabelText('Assignee: users (comma-separated)') as HTMLInputElement).value).toBe('ann.lee, bo.chen,') // as typed
  })

  it('an escalation notifies or reassigns by any assignee kind', async () => {
    await i18n.changeLanguage('en')
    const def = structuredClone(DEF)
    def.States.Open.Deadlines = [{ Name: 'respond', Seconds: 3600, Escalate: [{ Notify: { Role: 'manager' } }] }]
    const { last } = show('Open', def)
    fireEvent.change(screen.getByLabelText('Escalation 1 of respond: who'), { target: { value: 'Field' } })
    fireEvent.change(screen.getByLabelText('Escalation 1 of respond: user field'), { target: { value: 'engineer' } })
    expect(last().States.Open.Deadlines[0].Escalate[0]).toEqual({ Notify: { Field: 'engineer' } })
  })

  it('edits a chain approval: levels of any assignee kind, their order, separation of duties', async () => {
    await i18n.changeLanguage('en')
    const { last } = show('Sign')
    fireEvent.change(screen.getByLabelText('Approval mode'), { target: { value: 'chain' } })
    expect(last().States.Sign).toMatchObject({ Mode: 'chain', Levels: [{ Role: 'manager' }] })
    expect(last().States.Sign.Approvers).toBeUndefined()
    fireEvent.click(screen.getByRole('button', { name: 'Add level' }))
    fireEvent.change(screen.getByLabelText('Level 2: who'), { target: { value: 'Field' } })
    fireEvent.change(screen.getByLabelText('Level 2: user field'), { target: { value: 'engineer' } })
    fireEvent.click(screen.getByRole('button', { name: 'Move level 2 up' }))
    expect(last().States.Sign.Levels).toEqual([{ Field: 'engineer' }, { Role: 'manager' }])
    fireEvent.click(screen.getByLabelText('One level per person'))
    fireEvent.click(screen.getByLabelText('The user in Engineer may not vote'))
    expect(last().States.Sign.SeparationOfDuties).toEqual({ OneLevelPerPerson: false, ExcludeFields: ['engineer'] })
    fireEvent.click(screen.getByRole('button', { name: 'Remove level 1' }))
    expect(last().States.Sign.Levels).toEqual([{ Role: 'manager' }])
    fireEvent.change(screen.getByLabelText('Approval mode'), { target: { value: 'all' } })
    expect(last().States.Sign).toMatchObject({ Mode: 'all', Approvers: { Role: 'manager' } })
    expect(screen.getByText(/counts votes/)).toBeTruthy()
  })
})
