import { describe, expect, it } from 'vitest'
import shippedJson from '../../../../definitions/after_sales/workflows/work_order.json'
import type { WorkflowDef } from './WorkflowModel'
import {
  assigneeOf, draftActions, effectLine, parseValue, pathLines, problemsByField, recordLine, recordMatches, shownValue, userAssignees,
  valuesToSend, type DryRunResult, type ListedRecord,
} from './WorkflowDryRunModel'

const shipped = shippedJson as unknown as WorkflowDef
const order: ListedRecord = {
  id: '01ARZ3NDEKTSV4RRFFQ69G5FAV', number: 'WO-2026-000007', data: { order_no: 'WO-2026-000007', fault_description: 'Chiller trips' },
  workflow: { state: 'Review', status: 'running', assignees: ['user:sup.north', 'role:admin'] },
}

function answer(over: Partial<DryRunResult> = {}): DryRunResult {
  return {
    workflow: { name: 'work_order', version: null, draft: true },
    record: { id: order.id, number: 'WO-2026-000007', version: 3, state: 'OnSite', status: 'running' },
    action: 'request_parts', actor: { user: 'eng.zhang', roles: ['engineer'] }, allowed: true, problems: [],
    start: { state: 'OnSite', label: 'On site', type: 'Task' },
    path: [
      { state: 'PartsCheck', label: 'PartsCheck', type: 'Choice', json_path: 'States.PartsCheck', steps: [], caught: null,
        choice: { rule: 1, next: 'PartsApproval', matched: 'parts_total > 2000 or warranty_status == "out_of_warranty"', json_path: 'States.PartsCheck.Choices[1]' } },
      { state: 'PartsApproval', label: 'Parts approval', type: 'Approval', json_path: 'States.PartsApproval', steps: [], caught: null, choice: null },
    ],
    end: { state: 'PartsApproval', label: 'Parts approval', type: 'Approval', status: 'running', error: null },
    tasks: [], timers: { set: [], cleared: [], kept: [] }, changes: [], effects: [], events: [], written: false, ...over,
  }
}

describe('the dry run panel', () => {
  it('offers the actions the draft has in the state a record rests in', () => {
    const review = draftActions(shipped, 'Review', 'zh-CN')!
    expect(review.map((a) => a.action)).toEqual(['auto_dispatch', 'assign', 'cancel'])
    expect(review.find((a) => a.action === 'assign')).toMatchObject({ label: '指派工程师', next: 'AwaitAcceptance', requires: ['assigned_engineer'] })
    expect(review.find((a) => a.action === 'cancel')?.commentRequired).toBe(true)
    expect(draftActions(shipped, 'OnSite', 'en')!.find((a) => a.action === 'complete')?.conditional).toBe(true)
    expect(draftActions(shipped, 'PartsApproval', 'en')!.map((a) => [a.action, a.next])).toEqual([
      ['approve', 'PartsApproved'], ['reject', 'PartsRejected'], ['delegate', 'PartsApproval']])
    expect(draftActions(shipped, 'Closed', 'en')).toEqual([])
    const renamed = { ...shipped, States: { ...shipped.States } }
    delete renamed.States.Review
    expect(draftActions(renamed, 'Review', 'en')).toBeNull() // the draft lacks the record's state
  })

  it('sends typed values as the fields take them', () => {
    expect(parseValue({ name: 'parts_total', type: 'money' }, ' 2500.5 ')).toBe(2500.5)
    expect(parseValue({ name: 'n', type: 'number' }, 'lots')).toBe('lots') // the server says why
    expect(parseValue({ name: 'ok', type: 'checkbox' }, 'yes')).toBe(true)
    expect(parseValue({ name: 'ok', type: 'checkbox' }, '否')).toBe(false)
    expect(parseValue({ name: 'tags', type: 'multiselect' }, '["a","b"]')).toEqual(['a', 'b'])
    expect(parseValue({ name: 'who', type: 'user' }, 'eng.zhang')).toBe('eng.zhang')
    expect(parseValue(undefined, '  ')).toBeNull()
    expect(valuesToSend({ assigned_engineer: 'eng.chen', priority: 'high', contract_price: '12' },
      [{ name: 'contract_price', type: 'money' }, { name: 'assigned_engineer', type: 'user' }])).toEqual(
      { assigned_engineer: 'eng.chen', priority: 'high', contract_price: 12 })
  })

  it('puts the problems at the fields they name', () => {
    const problems = [
      { kind: 'required', code: 'action_requires_fields', path: 'data.assigned_engineer', message: 'is required for this action', summary: '' },
      { kind: 'data', code: 'validation_failed', path: 'data.parts_used[0].quantity', message: 'must be positive', summary: '' },
      { kind: 'permission', code: 'cannot_read', path: 'as_user', message: 'no', summary: '' },
    ]
    const placed = problemsByField(problems)
    expect(Object.keys(placed.fields)).toEqual(['assigned_engineer', 'parts_used'])
    expect(placed.other.map((p) => p.path)).toEqual(['as_user'])
  })

  it('lists and finds records, and suggests who acts on them', () => {
    expect(recordLine(order, shipped, 'zh-CN', 'fault_description')).toBe('WO-2026-000007 · 待审核 · Chiller trips')
    expect(recordLine(order, shipped, 'en', 'order_no')).toBe('WO-2026-000007 · Review')
    expect(recordLine({ ...order, number: null, workflow: { state: 'Gone', status: 'running' } }, shipped, 'en')).toBe(`${order.id} · Gone`)
    expect(recordMatches(order, 'wo-2026-000007')).toBe(true)
    expect(recordMatches(order, 'chiller')).toBe(true)
    expect(recordMatches(order, 'review')).toBe(true)
    expect(recordMatches(order, 'boiler')).toBe(false)
    expect(userAssignees(order)).toEqual(['sup.north'])
    expect(assigneeOf('role:manager')).toEqual({ role: 'manager' })
    expect(assigneeOf('user:eng.zhang')).toEqual({ user: 'eng.zhang' })
  })

  it('reads the path: where it rests, how each Choice chose, what an Action did', () => {
    expect(pathLines(answer())).toEqual([
      { state: 'OnSite', label: 'On site', type: 'Task', how: 'start' },
      { state: 'PartsCheck', label: 'PartsCheck', type: 'Choice', how: 'rule', rule: 2, next: 'PartsApproval',
        text: 'parts_total > 2000 or warranty_status == "out_of_warranty"' },
      { state: 'PartsApproval', label: 'Parts approval', type: 'Approval', how: 'entered' },
    ])
    const otherwise = answer({ path: [
      { state: 'FeedbackCheck', label: 'FeedbackCheck', type: 'Choice', json_path: 'States.FeedbackCheck', steps: [], caught: null,
        choice: { rule: null, next: 'Closed', matched: null, json_path: 'States.FeedbackCheck.Default' } },
      { state: 'AutoDispatch', label: 'AutoDispatch', type: 'Action', json_path: 'States.AutoDispatch', steps: [{ kind: 'Dispatch', text: 'assigned_engineer' }],
        caught: { error: 'Dispatch.NoCandidate', cause: 'nobody free', next: 'ManualDispatch' }, choice: null },
      { state: 'Accepted', label: 'Accepted', type: 'Action', json_path: 'States.Accepted', steps: [{ kind: 'SetFields', text: 'accepted_at = now()' }], caught: null, choice: null },
    ] })
    expect(pathLines(otherwise).slice(1).map((l) => [l.how, l.text ?? null, l.next ?? null])).toEqual([
      ['default', null, 'Closed'], ['caught', 'Dispatch.NoCandidate', 'ManualDispatch'], ['steps', 'SetFields: accepted_at = now()', null]])
  })

  it('words the effects in the reader\'s language, from what the server planned', () => {
    const t = (key: string, options: Record<string, unknown> = {}) =>
      `${key}(${Object.entries(options).filter(([k]) => k !== 'defaultValue').map(([k, v]) => `${k}=${v}`).join(',')})`
    const who = (key: string) => key.replace(/^user:/, '')
    const result = answer()
    expect(effectLine({ kind: 'notification', text: '', detail: { kind: 'approval.requested', to: 'user:sup.north', title: 'x' } }, t, result, who))
      .toBe('flowDryRun.fx_notification(notice=notice.approval_requested(number=WO-2026-000007,state=PartsApproval),to=sup.north)')
    expect(effectLine({ kind: 'outbound_event', text: '', detail: { type: 'workflow.transitioned', webhooks: ['a', 'b'] } }, t, result, who))
      .toBe('flowDryRun.fx_outbound(type=workflow.transitioned,count=2)')
    expect(effectLine({ kind: 'later', text: 'as the server says', detail: {} }, t, result, who)).toBe('as the server says')
    expect(shownValue(null)).toBe('—')
    expect(shownValue(true)).toBe('true')
    expect(shownValue('eng.zhang')).toBe('eng.zhang')
  })
})
