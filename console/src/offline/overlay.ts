// What a record looks like on this device: the server's last copy with the changes still queued laid
// over it, and the workflow state those changes lead to as the published workflow describes it (the
// diagram: actions, their next states, automatic states' next). Pure: no storage, no network. The
// server still decides when the work arrives; this is what the engineer works on meanwhile.
import type { Diagram, FormNav, RecordBody } from '../lib/types'
import type { Queued } from './db'

type FieldService = NonNullable<FormNav['field_service']>
type DiagramState = Diagram['states'][number]

export interface Projected {
  record: RecordBody
  /** the state the queued changes lead to; null = a branch the server decides when they arrive */
  state: string | null
  /** the server's state (the last copy) */
  serverState: string | null
  pending: Queued[]
}

const RESTING = new Set(['Task', 'Approval', 'Wait', 'Succeed', 'Fail'])

/** The resting state an action leads to: its Next, then automatic Action states' single `next`.
 *  null when a Choice (or anything the device cannot decide) is on the way. */
export function advance(diagram: Diagram | undefined, from: string | null, action: string): string | null {
  if (!diagram || !from) return null
  const state = diagram.states.find((s) => s.name === from)
  const target = state?.actions?.find((a) => a.action === action)?.next
  if (!target) return null
  return settle(diagram, target)
}

function settle(diagram: Diagram, name: string): string | null {
  let current = name
  for (let i = 0; i < 50; i++) {
    const state = diagram.states.find((s) => s.name === current)
    if (!state) return null
    if (RESTING.has(state.type)) return current
    if (state.type !== 'Action') return null // a Choice: the server's data decides
    const next = diagram.edges.filter((e) => e.from === current && e.label === 'next')
    if (next.length !== 1) return null
    current = next[0].to
  }
  return null
}

export const stateOf = (diagram: Diagram | undefined, name: string | null): DiagramState | undefined =>
  name ? diagram?.states.find((s) => s.name === name) : undefined

/** The server's copy with the queued changes of this record laid over it, in order. */
export function project(record: RecordBody, entries: Queued[], diagram: Diagram | undefined, fs: FieldService | null): Projected {
  const mine = entries.filter((e) => e.op.record_id === record.id && e.state !== 'failed')
  const data: Record<string, any> = { ...record.data }
  const serverState = record.workflow?.state ?? null
  let state = serverState
  const cols = fs?.checkin?.columns
  for (const { op, upload } of mine) {
    if (op.data && (op.type === 'update' || op.type === 'action')) Object.assign(data, op.data)
    if (op.type === 'action' && op.action) state = advance(diagram, state, op.action)
    if (op.type === 'checkin' && fs?.checkin && cols) {
      data[fs.checkin.visits_field] = [...(data[fs.checkin.visits_field] ?? []),
        { [cols.checked_in_at]: op.at, [cols.location]: op.location, ...(op.reason ? { [cols.reason]: op.reason } : {}), _pending: true }]
      if (fs.checkin.on_action && stateOf(diagram, state)?.actions?.some((a) => a.action === fs.checkin!.on_action)) {
        state = advance(diagram, state, fs.checkin.on_action)
      }
    }
    if (op.type === 'checkout' && fs?.checkin && cols) {
      const rows = [...(data[fs.checkin.visits_field] ?? [])].map((r) => ({ ...r }))
      let open = -1
      rows.forEach((r, i) => { if (r[cols.checked_in_at] && !r[cols.checked_out_at]) open = i })
      if (open >= 0) rows[open] = { ...rows[open], [cols.checked_out_at]: op.at, _pending: true }
      data[fs.checkin.visits_field] = rows
      if (fs.checkin.checkout_action && stateOf(diagram, state)?.actions?.some((a) => a.action === fs.checkin!.checkout_action)) {
        state = advance(diagram, state, fs.checkin.checkout_action)
      }
    }
    if (op.type === 'parts' && fs?.parts) {
      const c = fs.parts.columns
      data[fs.parts.lines_field] = [...(data[fs.parts.lines_field] ?? []),
        { [c.line_id ?? 'line_id']: op.line_id, [c.part ?? 'part']: op.part, [c.quantity ?? 'quantity']: op.quantity, _pending: true }]
    }
    if (op.type === 'attach' && upload) {
      const file = { key: `local:${op.op_id}`, content_type: upload.content_type, size: upload.size, name: upload.name, _pending: true }
      const now = data[upload.field]
      data[upload.field] = Array.isArray(now) ? [...now, file] : now && upload.multiple ? [now, file] : upload.multiple ? [file] : file
    }
  }
  return {
    record: { ...record, data, workflow: record.workflow ? { ...record.workflow, state: state ?? record.workflow.state } : record.workflow },
    state,
    serverState,
    pending: mine,
  }
}

/** Fields the user may edit in a state, by its edit rules: the assignees' (the user works the
 *  record's task), the user's roles', fields naming the user. */
export function editableIn(state: DiagramState | undefined, data: Record<string, any>, user: { id: string; roles: string[] }): string[] {
  const out = new Set<string>()
  for (const rule of state?.edits ?? []) {
    const mine = rule.assignees || (rule.roles ?? []).some((r) => user.roles.includes(r))
      || (rule.user_fields ?? []).some((f) => data[f] === user.id)
    if (mine) rule.fields.forEach((f) => out.add(f))
  }
  return [...out]
}

const empty = (v: unknown) => v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0)

/** The actions a state offers, with the required fields still empty in the device's copy. */
export function offered(state: DiagramState | undefined, data: Record<string, any>) {
  return (state?.actions ?? []).map((a) => ({ ...a, missing: a.requires.filter((f) => empty(data[f])) }))
}

/** Great-circle distance in metres (as the server's dispatch.geo.haversine_m). */
export function distanceM(a: { lat: number; lng: number }, b: { lat: number; lng: number }): number {
  const rad = Math.PI / 180
  const dLat = (b.lat - a.lat) * rad
  const dLng = (b.lng - a.lng) * rad
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLng / 2) ** 2
  return 2 * 6_371_008.8 * Math.asin(Math.min(1, Math.sqrt(h)))
}
