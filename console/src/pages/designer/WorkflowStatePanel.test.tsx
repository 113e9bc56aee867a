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
  Done: { Type: 'Succeed' } } }
const FIELDS = [{ name: 'text', type: 'text', label: 'Text' }, { name: 'level', type: 'select', label: 'Level' }, { name: 'checklist', type: 'subtable', label: 'Checklist' }]

afterEach(cleanup)

function show(name: string) {
  const onChange = vi.fn()
  const onRename = vi.fn(() => null)
  render(<WorkflowStatePanel def={DEF} name={name} fields={FIELDS} problems={['unknown state']} onChange={onChange} onRename={onRename} onDelete={vi.fn()} />)
  return { onChange, onRename }
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
    fireEvent.change(screen.getByLabelText('Operator'), { target: { value: 'NumericGreaterThan' } })
    expect(onChange.mock.calls[0][0].States.Check.Choices[0]).toEqual({ Variable: '$.level', NumericGreaterThan: 0, Next: 'Done' })
    fireEvent.change(screen.getByLabelText('Value'), { target: { value: 'b' } })
    expect(onChange.mock.calls[1][0].States.Check.Choices[0].StringEquals).toBe('b')
    fireEvent.change(screen.getByLabelText('Default of Check'), { target: { value: '' } })
    expect('Default' in onChange.mock.calls[2][0].States.Check).toBe(false)
  })
})
