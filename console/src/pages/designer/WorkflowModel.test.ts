import { describe, expect, it } from 'vitest'
import {
  addRuleChild, addState, assigneeKind, assigneeText, autoLayout, blankComparison, connect, deleteState, disconnect, edgeId, newState,
  newWorkflow, operandOf, operatorOf, problemsByTarget, removeRuleChild, renameState, ruleAt, ruleFields, ruleKind, ruleText, setTarget,
  targetOf, timerChanges, transitions, updateRule, userList, withApprovalMode, withAssigneeKind, withKind, withOperator,
  type RuleStep, type WorkflowDef,
} from './WorkflowModel'
import shippedJson from '../../../../definitions/after_sales/workflows/work_order.json'

const shipped = shippedJson as unknown as WorkflowDef

describe('definition ↔ graph', () => {
  it('draws every transition the engine knows, keyed by the slot that holds it', () => {
    const all = transitions(shipped)
    const ids = new Set(all.map((t) => t.id))
    expect(ids).toContain('Review|action:assign')
    expect(ids).toContain('PartsApproval|approve')
    expect(ids).toContain('PartsCheck|choice:1')
    expect(ids).toContain('PartsCheck|default')
    expect(ids).toContain('AutoDispatch|catch:0')
    expect(ids).toContain('AwaitAcceptance|deadline:0:1')
    expect(all.find((t) => t.id === 'AutoDispatch|next')?.to).toBe('AwaitAcceptance')
    expect(all.every((t) => t.to === '' || t.to in shipped.States)).toBe(true)
    expect(all.find((t) => t.id === 'PartsCheck|choice:0')?.label).toBe('parts_total > 10000')
    expect(all.find((t) => t.id === 'Review|action:assign')?.label).toBe('Assign engineer')
    expect(transitions(shipped, 'zh-CN').find((t) => t.id === 'Review|action:assign')?.label).toBe('指派工程师')
  })

  it('sets a slot, connects into the first empty slot or a new one, disconnects', () => {
    let def = addState(shipped, 'Inspect', newState('Task', 'Inspect'))
    expect(transitions(def).find((t) => t.id === 'Inspect|action:done')?.to).toBe('')
    const first = connect(def, 'Inspect', 'OnSite')
    expect(first.slot).toBe('action:done')
    def = first.def
    expect(def.States.Inspect.Actions.done.Next).toBe('OnSite')
    const second = connect(def, 'Inspect', 'Cancelled')
    expect(second.slot).toBe('action:to_cancelled')
    expect(second.def.States.Inspect.Actions.to_cancelled.Next).toBe('Cancelled')
    def = setTarget(def, 'Travelling', 'action:arrive', 'Inspect')
    expect(def.States.Travelling.Actions.arrive.Next).toBe('Inspect')
    expect(shipped.States.Travelling.Actions.arrive.Next).toBe('OnSite') // never changed in place
    const dropped = disconnect(second.def, 'Inspect', 'action:to_cancelled')
    expect(Object.keys(dropped.States.Inspect.Actions)).toEqual(['done'])
    const emptied = disconnect(dropped, 'Inspect', 'action:done') // the last action stays, dangling
    expect(emptied.States.Inspect.Actions.done.Next).toBe('')
    expect(connect(shipped, 'PartsCheck', 'OnSite').def.States.PartsCheck.Choices).toHaveLength(3)
    expect(connect(shipped, 'Closed', 'OnSite').slot).toBeNull()
  })
})

describe('rename and delete', () => {
  it('renames a state with every reference: StartAt, actions, choices, catches, escalations, StopAt', () => {
    const def = renameState(shipped, 'Review', 'Triage')
    expect(def.StartAt).toBe('Triage')
    expect(Object.keys(def.States)[0]).toBe('Triage') // the order kept
    expect(def.States.Review).toBeUndefined()
    const again = renameState(def, 'Declined', 'Refused')
    expect(again.States.AwaitAcceptance.Actions.reject.Next).toBe('Refused')
    expect(again.States.AwaitAcceptance.Deadlines[0].Escalate[1].Goto).toBe('Refused')
    const onsite = renameState(shipped, 'OnSite', 'AtCustomer')
    expect(onsite.States.PartsApproved.Next).toBe('AtCustomer')
    expect(onsite.States.Travelling.Actions.arrive.Next).toBe('AtCustomer')
    const done = renameState(shipped, 'Completed', 'Done')
    expect(done.Deadlines![0].StopAt).toContain('Done')
    const manual = renameState(shipped, 'ManualDispatch', 'ByHand')
    expect(manual.States.AutoDispatch.Catch[0].Next).toBe('ByHand')
    const parts = renameState(shipped, 'PartsApproved', 'Approved')
    expect(parts.States.PartsCheck.Default).toBe('Approved')
    expect(parts.States.PartsApproval.OnApprove).toBe('Approved')
    expect(renameState(shipped, 'Review', 'OnSite')).toBe(shipped) // taken: nothing happens
  })

  it('deletes a state, leaving what led to it dangling for the check', () => {
    const def = deleteState(shipped, 'Travelling')
    expect(def.States.Travelling).toBeUndefined()
    expect(def.States.Accepted.Next).toBe('')
    const closed = deleteState(shipped, 'Closed')
    expect(closed.Deadlines![0].StopAt).not.toContain('Closed')
  })
})

describe('problem paths → nodes and edges', () => {
  it('finds the node and the edge a JSON path concerns', () => {
    expect(targetOf(shipped, 'States.Review.Actions.assign.Next')).toEqual({ node: 'Review', edge: edgeId('Review', 'action:assign') })
    expect(targetOf(shipped, 'States.PartsCheck.Choices[1].Next')).toEqual({ node: 'PartsCheck', edge: 'PartsCheck|choice:1' })
    expect(targetOf(shipped, 'States.PartsApproval.OnReject')).toEqual({ node: 'PartsApproval', edge: 'PartsApproval|reject' })
    expect(targetOf(shipped, 'States.AwaitAcceptance.Deadlines[0].Escalate[1].Goto')).toEqual({ node: 'AwaitAcceptance', edge: 'AwaitAcceptance|deadline:0:1' })
    expect(targetOf(shipped, 'States.OnSite.Editable[0]')).toEqual({ node: 'OnSite' })
    expect(targetOf(shipped, 'States.Lost')).toEqual({})
    expect(targetOf(shipped, 'StartAt')).toEqual({ node: 'Review' })
    expect(targetOf(shipped, 'Fallback')).toEqual({})
  })

  it('groups problems: a dangling edge marks its state, a drawn one the edge too', () => {
    const def = addState(shipped, 'Inspect', newState('Task', 'Inspect'))
    const grouped = problemsByTarget(def, [
      { path: 'States.Inspect.Actions.done.Next', message: "unknown state ''" },
      { path: 'States.Inspect', message: 'unreachable from StartAt' },
      { path: 'States.Review.Actions.assign.Next', message: 'x' },
      { path: 'States.Accepted.Next', message: 'y' },
      { path: 'Fallback', message: 'z' },
    ])
    expect(grouped.nodes.Inspect).toEqual(["unknown state ''", 'unreachable from StartAt'])
    expect(grouped.edges['Inspect|action:done']).toBeUndefined()
    expect(grouped.edges['Review|action:assign']).toEqual(['x'])
    expect(grouped.edges['Accepted|next']).toEqual(['y'])
    expect(grouped.general).toEqual([{ path: 'Fallback', message: 'z' }])
  })
})

describe('layout and impact', () => {
  it('lays the states out in ranks from the start, top to bottom, without overlaps', () => {
    const at = autoLayout(shipped)
    expect(Object.keys(at)).toHaveLength(Object.keys(shipped.States).length)
    expect(at.Review.y).toBeLessThan(at.AwaitAcceptance.y)
    expect(at.AwaitAcceptance.y).toBeLessThan(at.Travelling.y)
    expect(at.Travelling.y).toBeLessThan(at.OnSite.y)
    const boxes = Object.values(at)
    for (const [i, a] of boxes.entries()) for (const b of boxes.slice(i + 1))
      expect(Math.abs(a.x - b.x) >= 180 || Math.abs(a.y - b.y) >= 56).toBe(true)
  })

  it('tells the timers a version changes, following renames', () => {
    const renamed = renameState(shipped, 'Review', 'Triage')
    expect(timerChanges(shipped, renamed, { Review: 'Triage' })).toEqual([])
    const faster = structuredClone(renamed)
    faster.States.AwaitAcceptance.Deadlines[0].Seconds = 1800
    delete faster.States.Triage.Deadlines
    expect(timerChanges(shipped, faster, { Review: 'Triage' })).toEqual([
      { state: 'Triage', deadline: 'response', change: 'removed' },
      { state: 'AwaitAcceptance', deadline: 'acceptance', change: 'changed' },
    ])
  })
})

describe('a new workflow for a form without one', () => {
  it('starts from a minimal valid draft: a Task with one action to a Succeed state, assigned to a role', () => {
    const def = newWorkflow('site_check')
    expect(def.name).toBe('site_check')
    expect(def.StartAt).toBe('Start')
    expect(def.States.Start.Type).toBe('Task')
    expect(def.States.Start.Assignee).toEqual({ Role: 'admin' })
    expect(def.States.Done.Type).toBe('Succeed')
    expect(def.Fallback).toEqual({ Role: 'admin' })
    expect(transitions(def)).toEqual([{ id: 'Start|action:done', from: 'Start', slot: 'action:done', to: 'Done', label: 'Done' }])
    expect(newWorkflow('x', 'engineer').States.Start.Assignee).toEqual({ Role: 'engineer' })
    expect(newWorkflow('x')).not.toBe(newWorkflow('x')) // a fresh object each time
  })

  it('grows into Inspect → Review (approval) → Done with the usual edits', () => {
    let def = renameState(newWorkflow('site_check', 'engineer'), 'Start', 'Inspect')
    def = addState(def, 'Review', newState('Approval', 'Review'))
    def = setTarget(def, 'Inspect', 'action:done', 'Review')
    def = setTarget(def, 'Review', 'approve', 'Done')
    def = setTarget(def, 'Review', 'reject', 'Inspect')
    expect(def.StartAt).toBe('Inspect')
    expect(transitions(def).map((t) => `${t.id}>${t.to}`)).toEqual(['Inspect|action:done>Review', 'Review|approve>Done', 'Review|reject>Inspect'])
    const layout = autoLayout(def)
    expect(layout.Inspect.y).toBeLessThan(layout.Review.y)
    expect(layout.Review.y).toBeLessThan(layout.Done.y)
  })
})

describe('a Choice rule as a tree', () => {
  const compare = { Variable: '$.priority', StringEquals: 'urgent' }
  const top = { ...compare, Next: 'Fast' }

  it('turns a comparison into And / Or / Not and back, Next staying on the top-level rule', () => {
    const and = withKind(top, 'And', true)
    expect(and).toEqual({ And: [compare, blankComparison()], Next: 'Fast' })
    expect(withKind(and, 'Or', true)).toEqual({ Or: [compare, blankComparison()], Next: 'Fast' })
    expect(withKind(top, 'Not', true)).toEqual({ Not: compare, Next: 'Fast' })
    expect(withKind(and, 'compare', true)).toEqual(top) // the first comparison found
    expect(withKind({ Not: { Or: [{ Condition: 'a > 1' }] } }, 'Condition')).toEqual({ Condition: 'a > 1' })
    expect(withKind({ And: [{ Condition: 'x' }] }, 'compare')).toEqual(blankComparison())
    expect(ruleKind(and)).toBe('And')
    expect(ruleKind({ Condition: '' })).toBe('Condition')
  })

  it('edits, adds and removes nested rules by path, never in place', () => {
    const rule = { And: [compare, { Not: { Variable: '$.warranty', BooleanEquals: true } }], Next: 'Fast' }
    const frozen = structuredClone(rule)
    const notWarranty: RuleStep[] = [1, 'Not']
    expect(ruleAt(rule, notWarranty)).toEqual({ Variable: '$.warranty', BooleanEquals: true })
    const deeper = updateRule(rule, notWarranty, (n) => withKind(n, 'Or'))
    expect(deeper.And[1]).toEqual({ Not: { Or: [{ Variable: '$.warranty', BooleanEquals: true }, blankComparison()] } })
    const three = addRuleChild(deeper, [1, 'Not'])
    expect(ruleAt(three, [1, 'Not']).Or).toHaveLength(3)
    const two = removeRuleChild(three, [1, 'Not', 0])
    expect(ruleAt(two, [1, 'Not']).Or).toEqual([blankComparison(), blankComparison()])
    const one = removeRuleChild(removeRuleChild(two, [1, 'Not', 0]), [1, 'Not', 0])
    expect(ruleAt(one, [1, 'Not']).Or).toHaveLength(1) // an empty Or is invalid: the last one stays
    expect(ruleFields(rule)).toEqual(['priority', 'warranty'])
    expect(ruleText(rule)).toBe('and(priority = "urgent", not warranty = true)')
    expect(rule).toEqual(frozen)
  })

  it('changes an operator, the value following as far as it fits', () => {
    expect(withOperator({ Variable: '$.qty', StringEquals: '12', Next: 'A' }, 'NumericGreaterThan')).toEqual({ Variable: '$.qty', Next: 'A', NumericGreaterThan: 12 })
    expect(withOperator({ Variable: '$.qty', NumericEquals: 3 }, 'IsPresent')).toEqual({ Variable: '$.qty', IsPresent: false })
    expect(withOperator({ Variable: '$.at', StringEquals: '2026-01-01T00:00:00Z' }, 'TimestampLessThan').TimestampLessThan).toBe('2026-01-01T00:00:00Z')
    expect(operandOf('NumericLessThan', 'x')).toBe(0)
    expect(operatorOf({ Variable: '$.a', StringMatches: 'A-*' })).toBe('StringMatches')
  })
})

describe('assignee rules and approval modes', () => {
  it('switches kinds, keeping the Fallback', () => {
    const rule = { Role: 'supervisor', Fallback: { Role: 'admin' } }
    expect(assigneeKind(rule)).toBe('Role')
    expect(withAssigneeKind(rule, 'Field')).toEqual({ Field: '', Fallback: { Role: 'admin' } })
    expect(withAssigneeKind(rule, 'Lookup')).toEqual({ Lookup: { Form: '', MatchField: '', ValueField: '', UserField: '' }, Fallback: { Role: 'admin' } })
    expect(withAssigneeKind({ Users: ['ann'] }, 'Users')).toEqual({ Users: ['ann'] })
    expect(assigneeKind({ Lookup: { Form: 'region' } })).toBe('Lookup')
    expect(userList(' ann.lee, ,bo.chen ,')).toEqual(['ann.lee', 'bo.chen'])
    expect(assigneeText({ Lookup: { Form: 'region', UserField: 'supervisor' }, Fallback: { Role: 'admin' } })).toBe('lookup region.supervisor else role admin')
  })

  it('a chain takes levels, the other modes one Approvers rule', () => {
    const single = { Type: 'Approval', Mode: 'single', Approvers: { Field: 'manager' }, OnApprove: 'A', OnReject: 'B' }
    const chain = withApprovalMode(single, 'chain')
    expect(chain).toEqual({ Type: 'Approval', Mode: 'chain', Levels: [{ Field: 'manager' }], OnApprove: 'A', OnReject: 'B' })
    expect(withApprovalMode({ ...chain, Levels: [{ Role: 'a' }, { Role: 'b' }] }, 'threshold')).toEqual({
      Type: 'Approval', Mode: 'threshold', Approvers: { Role: 'a' }, ThresholdPercent: 50, OnApprove: 'A', OnReject: 'B' })
    expect(withApprovalMode({ ...single, Mode: 'threshold', ThresholdPercent: 60 }, 'any')).not.toHaveProperty('ThresholdPercent')
    expect(single.Mode).toBe('single')
  })
})
