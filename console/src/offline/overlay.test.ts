import { describe, expect, it } from 'vitest'
import type { Diagram, FormNav, RecordBody } from '../lib/types'
import type { Queued, SyncOp } from './db'
import { fitWithin } from './images'
import { advance, distanceM, editableIn, offered, project, stateOf } from './overlay'

// the shape of the shipped work-order workflow's diagram, as GET /workflows/work_order/diagram gives it
const diagram: Diagram = {
  workflow: 'work_order', version: 1, start: 'Review',
  states: [
    { name: 'AwaitAcceptance', label: 'Awaiting acceptance', type: 'Task', edits: [],
      actions: [{ action: 'accept', label: 'Accept', next: 'Accepted', requires: [], comment_required: false, conditional: false },
        { action: 'reject', label: 'Reject', next: 'Declined', requires: [], comment_required: true, conditional: false }] },
    { name: 'Accepted', label: 'Accepted', type: 'Action' },
    { name: 'Declined', label: 'Declined', type: 'Action' },
    { name: 'ManualDispatch', label: 'Manual dispatch', type: 'Task', actions: [] },
    { name: 'Travelling', label: 'Travelling', type: 'Task', edits: [],
      actions: [{ action: 'arrive', label: 'Arrive', next: 'OnSite', requires: [], comment_required: false, conditional: false }] },
    { name: 'OnSite', label: 'On site', type: 'Task',
      edits: [{ fields: ['service_report', 'customer_signature', 'fault_photos'], assignees: true, roles: null, user_fields: null, comment_required: false },
        { fields: ['repair_quote'], assignees: false, roles: ['supervisor'], user_fields: null, comment_required: false }],
      actions: [{ action: 'request_parts', label: 'Request parts', next: 'PartsCheck', requires: ['parts_used'], comment_required: false, conditional: false },
        { action: 'complete', label: 'Complete', next: 'Completed', requires: ['service_report', 'customer_signature'], comment_required: false, conditional: true }] },
    { name: 'PartsCheck', label: 'Parts check', type: 'Choice' },
    { name: 'Completed', label: 'Completed', type: 'Action' },
    { name: 'CustomerFeedback', label: 'Customer feedback', type: 'Task', actions: [] },
  ],
  edges: [
    { from: 'Accepted', to: 'Travelling', label: 'next', text: 'next' },
    { from: 'Declined', to: 'ManualDispatch', label: 'next', text: 'next' },
    { from: 'Completed', to: 'CustomerFeedback', label: 'next', text: 'next' },
    { from: 'PartsCheck', to: 'OnSite', label: 'default', text: 'default' },
  ],
}

const fs: NonNullable<FormNav['field_service']> = {
  engineer_field: 'assigned_engineer',
  checkin: { states: ['Travelling', 'OnSite'], radius_m: 300, location_field: 'service_location', visits_field: 'visits', on_action: 'arrive',
    columns: { checked_in_at: 'checked_in_at', checked_out_at: 'checked_out_at', location: 'checkin_location', distance_m: 'checkin_distance_m', flagged: 'checkin_flagged', reason: 'checkin_reason' } },
  parts: { lines_field: 'parts_used', part_form: 'spare_part', warehouse_form: 'warehouse', columns: { line_id: 'line_id', part: 'part', quantity: 'quantity' }, van: true },
}

const record: RecordBody = { id: 'r1', form: 'work_order', version: 7, data: { service_location: { lat: 31.23, lng: 121.47 } },
  workflow: { state: 'AwaitAcceptance', status: 'running' } }

let seq = 0
const queued = (op: Omit<SyncOp, 'op_id' | 'form' | 'record_id'>, extra: Partial<Queued> = {}): Queued =>
  ({ seq: ++seq, scope: 's', state: 'pending', created_at: '', attempts: 0, op: { op_id: `op-${seq}`, form: 'work_order', record_id: 'r1', ...op }, ...extra })

describe('a record as the device shows it', () => {
  it('follows actions through automatic states to where the record will rest', () => {
    expect(advance(diagram, 'AwaitAcceptance', 'accept')).toBe('Travelling')
    expect(advance(diagram, 'AwaitAcceptance', 'reject')).toBe('ManualDispatch')
    expect(advance(diagram, 'OnSite', 'complete')).toBe('CustomerFeedback')
    expect(advance(diagram, 'OnSite', 'request_parts')).toBeNull() // a Choice: the server decides
    expect(advance(diagram, 'OnSite', 'no_such_action')).toBeNull()
  })

  it('lays the queued visit over the server copy, in order', () => {
    const ops = [
      queued({ type: 'action', action: 'accept' }),
      queued({ type: 'checkin', at: '2026-12-03T08:00:00Z', location: { lat: 31.23, lng: 121.47 } }), // takes "arrive"
      queued({ type: 'parts', part: 'p1', quantity: 2, line_id: 'line-1' }),
      queued({ type: 'update', data: { service_report: 'Replaced the valve' }, base_version: 7 }),
      queued({ type: 'attach' }, { upload: { field: 'customer_signature', name: 'signature.png', content_type: 'image/png', size: 10 } }),
      queued({ type: 'attach' }, { upload: { field: 'fault_photos', name: 'a.jpg', content_type: 'image/jpeg', size: 10, multiple: true } }),
      queued({ type: 'update', data: { service_report: 'Never sent' } }, { state: 'failed' }), // refused: not shown as done
      { ...queued({ type: 'update', data: { service_report: 'elsewhere' } }), op: { op_id: 'x', type: 'update', form: 'work_order', record_id: 'other', data: { service_report: 'elsewhere' } } } as Queued,
    ]
    const p = project(record, ops, diagram, fs)
    expect(p.serverState).toBe('AwaitAcceptance')
    expect(p.state).toBe('OnSite')
    expect(p.record.workflow?.state).toBe('OnSite')
    expect(p.record.data.visits).toHaveLength(1)
    expect(p.record.data.parts_used).toEqual([{ line_id: 'line-1', part: 'p1', quantity: 2, _pending: true }])
    expect(p.record.data.service_report).toBe('Replaced the valve')
    expect(p.record.data.customer_signature.name).toBe('signature.png')
    expect(p.record.data.fault_photos).toHaveLength(1)
    expect(p.pending).toHaveLength(6)
    expect(record.data.visits).toBeUndefined() // the server copy is untouched
    // now Complete is offered with nothing missing; the supervisor's field is not the engineer's to edit
    const onSite = stateOf(diagram, p.state)
    expect(offered(onSite, p.record.data).find((a) => a.action === 'complete')?.missing).toEqual([])
    expect(editableIn(onSite, p.record.data, { id: 'eng.zhang', roles: ['engineer'] }).sort()).toEqual(['customer_signature', 'fault_photos', 'service_report'])
    expect(editableIn(onSite, p.record.data, { id: 'sup', roles: ['supervisor'] })).toContain('repair_quote')
  })

  it('closes the open visit on check-out and names what an action still needs', () => {
    const ops = [queued({ type: 'checkin', at: '2026-12-03T08:00:00Z', location: { lat: 1, lng: 1 } }), queued({ type: 'checkout', at: '2026-12-03T09:00:00Z' })]
    const p = project({ ...record, workflow: { state: 'OnSite', status: 'running' } }, ops, diagram, fs)
    expect(p.record.data.visits[0].checked_out_at).toBe('2026-12-03T09:00:00Z')
    expect(offered(stateOf(diagram, 'OnSite'), {}).find((a) => a.action === 'complete')?.missing).toEqual(['service_report', 'customer_signature'])
  })

  it('measures distances as the server does and fits photos in the tenant maximum', () => {
    expect(Math.round(distanceM({ lat: 31.2304, lng: 121.4737 }, { lat: 31.2404, lng: 121.4737 }))).toBe(1112)
    expect(fitWithin(4032, 3024, 1600)).toEqual({ width: 1600, height: 1200 })
    expect(fitWithin(3024, 4032, 1600)).toEqual({ width: 1200, height: 1600 })
    expect(fitWithin(800, 600, 1600)).toEqual({ width: 800, height: 600 })
    expect(fitWithin(800, 600, 0)).toEqual({ width: 800, height: 600 })
  })
})
