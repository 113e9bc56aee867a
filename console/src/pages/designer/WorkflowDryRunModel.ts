// The dry run panel's pure part: which actions the DRAFT offers in the state a record rests in, the
// values typed for an action turned into what the API takes, the server's problems placed at the
// fields they concern, a record's line in the picker, and the dry run's answer as lines to read.
import type { FormField } from './WorkflowStatePanel'
import { labelOf, type Json, type WorkflowDef } from './WorkflowModel'

/** What POST /workflows/{name}/dry-run answers (chalicelib/services/workflow_dry_run.py `DryRun`). */
export interface DryRunProblem { kind: 'permission' | 'state' | 'required' | 'data' | string; code: string; path: string; message: string; summary: string }
export interface DryRunState {
  state: string; label: string; type: string; json_path: string
  choice: { rule: number | null; next: string | null; matched: string | null; json_path: string } | null
  steps: { kind: string; text: string }[]
  caught: { error: string; cause: string; next: string | null } | null
}
export interface DryRunTimer { name: string; kind: string; label: string; state: string; due_at: string }
export interface DryRunResult {
  workflow: { name: string; version: number | null; draft: boolean }
  record: { id: string; number: string | null; version: number; state: string; status: string }
  action: string
  actor: { user: string; roles: string[] }
  allowed: boolean
  problems: DryRunProblem[]
  start: { state: string; label: string; type: string }
  path: DryRunState[]
  end: { state: string; label: string; type: string; status: string; error: Json } | null
  tasks: { assignee: string; kind: string; state: string; due_at: string | null; new: boolean; members: string[]; members_more: number }[]
  timers: { set: DryRunTimer[]; cleared: DryRunTimer[]; kept: DryRunTimer[] }
  changes: { field: string; before: Json; after: Json }[]
  effects: { kind: string; text: string; detail: Record<string, Json> }[]
  events: Json[]
  written: boolean
}

export interface ListedRecord {
  id: string
  number?: string | null
  data: Record<string, Json>
  workflow?: { state: string; status: string; assignees?: string[] } | null
  updated_at?: string
}

export interface DraftAction { action: string; label: string; next: string; requires: string[]; commentRequired: boolean; conditional: boolean }

/** The actions the draft offers in `state` (a Task's actions; an approval's votes and delegation), or
 *  null when the draft has no such state. Who may take them, and whether a condition holds, the server
 *  decides on the dry run. */
export function draftActions(def: WorkflowDef, state: string, language: string): DraftAction[] | null {
  const s = def.States?.[state]
  if (!s) return null
  if (s.Type === 'Task') {
    return Object.entries<Json>(s.Actions ?? {}).map(([action, a]) => ({
      action, label: a?.Translations?.[language]?.Label || a?.Label || action, next: a?.Next ?? '',
      requires: Array.isArray(a?.Requires) ? a.Requires : [], commentRequired: !!a?.CommentRequired, conditional: !!a?.Condition,
    }))
  }
  if (s.Type === 'Approval') {
    return [
      { action: 'approve', label: 'approve', next: s.OnApprove ?? '', requires: [], commentRequired: false, conditional: false },
      { action: 'reject', label: 'reject', next: s.OnReject ?? '', requires: [], commentRequired: true, conditional: false },
      { action: 'delegate', label: 'delegate', next: state, requires: [], commentRequired: false, conditional: false },
    ]
  }
  return []
}

const NUMERIC = new Set(['number', 'money', 'rating', 'duration', 'percent'])

/** A typed value as the API takes it for `field`: numbers for numeric fields, true/false for a
 *  checkbox, JSON for a list or an object, '' → null (clears it), else the text. */
export function parseValue(field: FormField | undefined, text: string): Json {
  const raw = text.trim()
  if (raw === '') return null
  if (field && NUMERIC.has(field.type)) {
    const n = Number(raw)
    return Number.isFinite(n) ? n : text // the server says why it is not a number
  }
  if (field?.type === 'checkbox') {
    if (/^(true|yes|1|是)$/i.test(raw)) return true
    if (/^(false|no|0|否)$/i.test(raw)) return false
    return text
  }
  if (raw.startsWith('[') || raw.startsWith('{')) {
    try { return JSON.parse(raw) } catch { return text }
  }
  return text
}

/** The values to send: only the fields given, each parsed for its field. */
export function valuesToSend(values: Record<string, string>, fields: FormField[]): Record<string, Json> {
  const byName = Object.fromEntries(fields.map((f) => [f.name, f]))
  return Object.fromEntries(Object.entries(values).map(([name, text]) => [name, parseValue(byName[name], text)]))
}

/** Problems at the field they name (`data.<field>`, `data.<field>[0].x`), the rest apart. */
export function problemsByField(problems: DryRunProblem[]): { fields: Record<string, DryRunProblem[]>; other: DryRunProblem[] } {
  const fields: Record<string, DryRunProblem[]> = {}
  const other: DryRunProblem[] = []
  for (const p of problems) {
    const field = /^data\.([A-Za-z0-9_]+)/.exec(p.path)?.[1]
    if (field) (fields[field] ??= []).push(p)
    else other.push(p)
  }
  return { fields, other }
}

/** The users a record's tasks name (user:<id>), the first one who would usually act. */
export function userAssignees(record: ListedRecord | undefined): string[] {
  return (record?.workflow?.assignees ?? []).filter((a) => a.startsWith('user:')).map((a) => a.slice(5))
}

/** A record's line in the picker: its number (or id), the state it rests in, a title-ish value. */
export function recordLine(record: ListedRecord, def: WorkflowDef | null, language: string, titleField?: string): string {
  const state = record.workflow?.state
  const value = titleField ? record.data?.[titleField] : undefined
  const title = typeof value === 'string' && value !== record.number ? value : '' // an auto number is the number already
  const where = state ? (def?.States?.[state] ? labelOf(def, state, language) : state) : ''
  return [record.number || record.id, where, title].filter(Boolean).join(' · ')
}

/** Whether a record matches what was typed in the search box (number, id, state or any text value). */
export function recordMatches(record: ListedRecord, query: string): boolean {
  const q = query.trim().toLowerCase()
  if (!q) return true
  const texts = [record.number ?? '', record.id, record.workflow?.state ?? '',
    ...Object.values(record.data ?? {}).filter((v) => typeof v === 'string')] as string[]
  return texts.some((t) => t.toLowerCase().includes(q))
}

/** A value as the result shows it: empty as —, text as itself, anything else as JSON. */
export function shownValue(value: Json): string {
  if (value === null || value === undefined || value === '') return '—'
  if (typeof value === 'string') return value
  return JSON.stringify(value)
}

/** The path as lines: the state the record rests in, each state entered (how a Choice chose, what an
 *  Action did, a caught step error), and where it comes to rest. */
export interface PathLine { state: string; label: string; type: string; how: 'start' | 'rule' | 'default' | 'none' | 'steps' | 'caught' | 'entered'; rule?: number; text?: string; next?: string | null }
export function pathLines(result: DryRunResult): PathLine[] {
  const out: PathLine[] = [{ state: result.start.state, label: result.start.label, type: result.start.type, how: 'start' }]
  for (const s of result.path) {
    const base = { state: s.state, label: s.label, type: s.type }
    if (s.choice) {
      if (s.choice.rule !== null) out.push({ ...base, how: 'rule', rule: s.choice.rule + 1, text: s.choice.matched ?? '', next: s.choice.next })
      else out.push({ ...base, how: s.choice.next ? 'default' : 'none', next: s.choice.next })
    } else if (s.caught) out.push({ ...base, how: 'caught', text: s.caught.error, next: s.caught.next })
    else if (s.steps.length) out.push({ ...base, how: 'steps', text: s.steps.map((x) => x.text ? `${x.kind}: ${x.text}` : x.kind).join('; ') })
    else out.push({ ...base, how: 'entered' })
  }
  return out
}

/** `user:eng.zhang` → eng.zhang; `role:manager` → { role } for the caller to word. */
export function assigneeOf(key: string): { user?: string; role?: string } {
  if (key.startsWith('user:')) return { user: key.slice(5) }
  if (key.startsWith('role:')) return { role: key.slice(5) }
  return { user: key }
}

type Translate = (key: string, options?: Record<string, unknown>) => string

/** An effect as a line in the reader's language (the server's English text when it is of a kind not
 *  known here): a notification in the words the inbox uses, who is told, what else the write fires. */
export function effectLine(effect: DryRunResult['effects'][number], t: Translate, result: DryRunResult,
  who: (key: string) => string): string {
  const d = effect.detail ?? {}
  switch (effect.kind) {
    case 'notification': {
      const notice = t(`notice.${String(d.kind).replace('.', '_')}`, { number: result.record.number ?? result.record.id, state: result.end?.state ?? '', defaultValue: String(d.title ?? d.kind) })
      return t('flowDryRun.fx_notification', { notice, to: who(String(d.to)) })
    }
    case 'email': return t('flowDryRun.fx_email', { template: d.template, to: shownValue(d.to) })
    case 'event': return t('flowDryRun.fx_event', { type: d.type })
    case 'signal': return t('flowDryRun.fx_signal', { event: d.event, key: d.key, waiting: d.waiting })
    case 'dispatch': return t('flowDryRun.fx_dispatch', { user: d.user, field: d.field })
    case 'create_record': return t('flowDryRun.fx_create', { form: d.form })
    case 'outbound_event': return t('flowDryRun.fx_outbound', { type: d.type, count: Array.isArray(d.webhooks) ? d.webhooks.length : 0 })
    case 'unassigned': return t('flowDryRun.fx_unassigned', { state: d.state })
    default: return effect.text
  }
}
