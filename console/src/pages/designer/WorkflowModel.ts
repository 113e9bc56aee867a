// The workflow designer's pure part: a workflow definition (the JSON the API stores) ↔ the graph the
// designer draws, the edits (add, connect, delete, rename with every reference following), the
// server's problem paths → the node or edge they concern, and the automatic layout (dagre).
import dagre from '@dagrejs/dagre'

export type Json = any
export interface WorkflowDef {
  name?: string
  StartAt: string
  States: Record<string, Json>
  Deadlines?: Json[]
  [key: string]: Json
}

export const STATE_TYPES = ['Task', 'Approval', 'Choice', 'Wait', 'Action', 'Succeed', 'Fail'] as const
export type StateType = (typeof STATE_TYPES)[number]
export const RESTING = new Set(['Task', 'Approval', 'Wait', 'Succeed', 'Fail'])
/** Every comparison a Choice rule may make (chalicelib/workflow/definition.py `ChoiceRule`), the common ones first. */
export const OPERATORS = ['StringEquals', 'NumericEquals', 'NumericGreaterThan', 'NumericLessThan', 'NumericGreaterThanEquals',
  'NumericLessThanEquals', 'BooleanEquals', 'IsPresent', 'IsNull', 'StringMatches', 'StringLessThan', 'StringGreaterThan',
  'StringLessThanEquals', 'StringGreaterThanEquals', 'TimestampEquals', 'TimestampLessThan', 'TimestampGreaterThan',
  'TimestampLessThanEquals', 'TimestampGreaterThanEquals'] as const

/** One transition: where it starts, the slot of the definition that holds its target, the target. */
export interface Transition {
  id: string // `${from}|${slot}`
  from: string
  slot: string // action:<key> | approve | reject | choice:<i> | default | next | wait | event:<key> | catch:<i> | deadline:<d>:<e>
  to: string // '' while dangling
  label: string
}

export const edgeId = (from: string, slot: string) => `${from}|${slot}`

/** Every transition the definition names, in the definition's order (those with no target yet too). */
export function transitions(def: WorkflowDef, language?: string): Transition[] {
  const out: Transition[] = []
  const add = (from: string, slot: string, to: unknown, label: string) =>
    out.push({ id: edgeId(from, slot), from, slot, to: typeof to === 'string' ? to : '', label })
  for (const [name, s] of Object.entries(def.States ?? {})) {
    if (s.Type === 'Task') for (const [key, a] of Object.entries<Json>(s.Actions ?? {})) add(name, `action:${key}`, a?.Next, (language && a?.Translations?.[language]?.Label) || a?.Label || key)
    if (s.Type === 'Approval') { add(name, 'approve', s.OnApprove, 'approve'); add(name, 'reject', s.OnReject, 'reject') }
    if (s.Type === 'Choice') {
      ;(s.Choices ?? []).forEach((c: Json, i: number) => add(name, `choice:${i}`, c?.Next, ruleText(c)))
      if ('Default' in s) add(name, 'default', s.Default, 'default')
    }
    if (s.Type === 'Wait') {
      if ('Next' in s) add(name, 'wait', s.Next, s.TimestampField ? `at ${s.TimestampField}` : s.Seconds ? `after ${s.Seconds}s` : 'wait')
      for (const [key, e] of Object.entries<Json>(s.Events ?? {})) add(name, `event:${key}`, e?.Next, key)
    }
    if (s.Type === 'Action') {
      if ('Next' in s) add(name, 'next', s.Next, '')
      ;(s.Catch ?? []).forEach((c: Json, i: number) => add(name, `catch:${i}`, c?.Next, `catch ${(c?.ErrorEquals ?? []).join(',')}`))
    }
    ;(s.Deadlines ?? []).forEach((d: Json, di: number) => (d?.Escalate ?? []).forEach((e: Json, ei: number) => {
      if (e && 'Goto' in e) add(name, `deadline:${di}:${ei}`, e.Goto, `deadline ${d.Name}`)
    }))
  }
  return out
}

/** A Choice rule as one line: `$.parts_total > 10000`, compound rules shortened. */
export function ruleText(rule: Json): string {
  if (!rule || typeof rule !== 'object') return ''
  if (rule.Condition) return String(rule.Condition).slice(0, 40)
  if (rule.And || rule.Or) return `${rule.And ? 'and' : 'or'}(${(rule.And ?? rule.Or).map(ruleText).join(', ')})`
  if (rule.Not) return `not ${ruleText(rule.Not)}`
  const op = OPERATORS.find((o) => o in rule) ?? Object.keys(rule).find((k) => !['Variable', 'Next'].includes(k))
  const sign: Record<string, string> = { StringEquals: '=', NumericEquals: '=', NumericGreaterThan: '>', NumericLessThan: '<',
    NumericGreaterThanEquals: '≥', NumericLessThanEquals: '≤', BooleanEquals: '=', StringMatches: '~', TimestampEquals: '=',
    TimestampLessThan: '<', TimestampGreaterThan: '>', TimestampLessThanEquals: '≤', TimestampGreaterThanEquals: '≥',
    StringLessThan: '<', StringGreaterThan: '>', StringLessThanEquals: '≤', StringGreaterThanEquals: '≥' }
  return `${String(rule.Variable ?? '').replace(/^\$\./, '')} ${op ? sign[op] ?? op : ''} ${op && rule[op] !== undefined ? JSON.stringify(rule[op]) : ''}`.trim()
}

/** The state a slot's target lives in, set to `to` (a copy; the definition is never changed in place). */
export function setTarget(def: WorkflowDef, from: string, slot: string, to: string): WorkflowDef {
  const next = structuredClone(def)
  const s = next.States[from]
  if (!s) return def
  const [kind, a, b] = slot.split(':')
  if (kind === 'action') s.Actions[a] = { ...s.Actions[a], Next: to }
  else if (kind === 'approve') s.OnApprove = to
  else if (kind === 'reject') s.OnReject = to
  else if (kind === 'choice') s.Choices[Number(a)] = { ...s.Choices[Number(a)], Next: to }
  else if (kind === 'default') s.Default = to
  else if (kind === 'next' || kind === 'wait') s.Next = to
  else if (kind === 'event') s.Events[a] = { ...s.Events[a], Next: to }
  else if (kind === 'catch') s.Catch[Number(a)] = { ...s.Catch[Number(a)], Next: to }
  else if (kind === 'deadline') s.Deadlines[Number(a)].Escalate[Number(b)] = { Goto: to }
  return next
}

/** A new edge drawn from `from` to `to`: the first slot still without a target, else a new one
 *  (a Task gets a new action, a Choice its Default or a new rule). Returns the definition and the slot. */
export function connect(def: WorkflowDef, from: string, to: string): { def: WorkflowDef; slot: string | null } {
  const s = def.States[from]
  if (!s || !def.States[to]) return { def, slot: null }
  const empty = transitions(def).find((t) => t.from === from && !t.to)
  if (empty) return { def: setTarget(def, from, empty.slot, to), slot: empty.slot }
  const next = structuredClone(def)
  const n = next.States[from]
  switch (n.Type) {
    case 'Task': {
      let key = `to_${to.replace(/[A-Z]/g, (c: string, i: number) => (i ? '_' : '') + c.toLowerCase())}`.slice(0, 40)
      for (let i = 2; n.Actions?.[key]; i++) key = `${key.replace(/_\d+$/, '')}_${i}`
      n.Actions = { ...(n.Actions ?? {}), [key]: { Label: to, Next: to } }
      return { def: next, slot: `action:${key}` }
    }
    case 'Approval':
      if (!n.OnApprove) { n.OnApprove = to; return { def: next, slot: 'approve' } }
      n.OnReject = to
      return { def: next, slot: 'reject' }
    case 'Choice':
      if (!n.Default) { n.Default = to; return { def: next, slot: 'default' } }
      n.Choices = [...(n.Choices ?? []), { Variable: '', StringEquals: '', Next: to }]
      return { def: next, slot: `choice:${n.Choices.length - 1}` }
    case 'Wait': case 'Action':
      n.Next = to
      return { def: next, slot: n.Type === 'Wait' ? 'wait' : 'next' }
    default:
      return { def, slot: null } // an end state leads nowhere
  }
}

/** An edge removed: a required target is left empty (the check then says so), an optional one goes. */
export function disconnect(def: WorkflowDef, from: string, slot: string): WorkflowDef {
  const next = structuredClone(def)
  const s = next.States[from]
  if (!s) return def
  const [kind, a, b] = slot.split(':')
  if (kind === 'action' && Object.keys(s.Actions ?? {}).length > 1) delete s.Actions[a]
  else if (kind === 'choice' && (s.Choices ?? []).length > 1) s.Choices.splice(Number(a), 1)
  else if (kind === 'default') delete s.Default
  else if (kind === 'next' && s.Type === 'Action') { delete s.Next; s.End = true }
  else if (kind === 'catch') s.Catch.splice(Number(a), 1)
  else if (kind === 'event') delete s.Events[a]
  else if (kind === 'deadline') s.Deadlines[Number(a)].Escalate.splice(Number(b), 1)
  else return setTarget(def, from, slot, '')
  return next
}

/** A fresh state of a type, valid as far as it can be alone (its transitions are for the author to draw). */
export function newState(type: StateType, label: string): Json {
  switch (type) {
    case 'Task': return { Type: 'Task', Label: label, Assignee: { Role: 'agent' }, Editable: [], Actions: { done: { Label: 'Done', Next: '' } } }
    case 'Approval': return { Type: 'Approval', Label: label, Mode: 'single', Approvers: { Role: 'manager' }, OnApprove: '', OnReject: '' }
    case 'Choice': return { Type: 'Choice', Choices: [{ Variable: '', StringEquals: '', Next: '' }], Default: '' }
    case 'Wait': return { Type: 'Wait', Label: label, Seconds: 3600, Next: '' }
    case 'Action': return { Type: 'Action', Steps: [{ EmitEvent: 'custom.step' }], Next: '' }
    case 'Succeed': return { Type: 'Succeed', Label: label }
    case 'Fail': return { Type: 'Fail', Label: label, Error: 'Failed' }
  }
}

/** The draft a form without a workflow starts from: the smallest workflow the server accepts — a
 *  Task (assigned to `role`, the tenant's admins by default) whose one action leads to a Succeed state,
 *  with the admins as the workflow's Fallback so a task never lacks an assignee. */
export function newWorkflow(form: string, role = 'admin'): WorkflowDef {
  return {
    name: form,
    StartAt: 'Start',
    Fallback: { Role: 'admin' },
    States: {
      Start: { Type: 'Task', Label: 'Start', Assignee: { Role: role }, Editable: [], Actions: { done: { Label: 'Done', Next: 'Done' } } },
      Done: { Type: 'Succeed', Label: 'Done' },
    },
  }
}

/** A name not used yet: `Task`, `Task2`, … */
export function freeName(def: WorkflowDef, base: string): string {
  if (!def.States[base]) return base
  for (let i = 2; ; i++) if (!def.States[`${base}${i}`]) return `${base}${i}`
}

export function addState(def: WorkflowDef, name: string, state: Json): WorkflowDef {
  return { ...def, States: { ...def.States, [name]: state } }
}

/** Every place a state name is referenced, rewritten by `map` (old name → new name or undefined). */
function rewriteReferences(def: WorkflowDef, map: (name: string) => string | undefined): WorkflowDef {
  const next = structuredClone(def)
  const swap = (v: unknown) => (typeof v === 'string' ? map(v) ?? v : v)
  next.StartAt = swap(next.StartAt) as string
  const deadlines = (list: Json[] | undefined) => {
    for (const d of list ?? []) {
      if (Array.isArray(d.StopAt)) d.StopAt = d.StopAt.map(swap)
      for (const e of d.Escalate ?? []) if ('Goto' in e) e.Goto = swap(e.Goto)
    }
  }
  deadlines(next.Deadlines)
  const rules = (list: Json[] | undefined) => { for (const c of list ?? []) if ('Next' in c) c.Next = swap(c.Next) }
  for (const s of Object.values(next.States)) {
    for (const key of ['Next', 'Default', 'OnApprove', 'OnReject'] as const) if (key in s) s[key] = swap(s[key])
    for (const a of Object.values<Json>(s.Actions ?? {})) a.Next = swap(a.Next)
    for (const e of Object.values<Json>(s.Events ?? {})) e.Next = swap(e.Next)
    rules(s.Choices)
    rules(s.Catch)
    deadlines(s.Deadlines)
  }
  return next
}

export const NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/

/** A state renamed: its key (in place, the order kept), StartAt and every reference follow. */
export function renameState(def: WorkflowDef, from: string, to: string): WorkflowDef {
  if (from === to || !def.States[from] || def.States[to]) return def
  const moved = rewriteReferences(def, (n) => (n === from ? to : undefined))
  moved.States = Object.fromEntries(Object.entries(moved.States).map(([k, v]) => [k === from ? to : k, v]))
  return moved
}

/** A state removed: what led to it is left dangling (empty), for the check to point at. */
export function deleteState(def: WorkflowDef, name: string): WorkflowDef {
  if (!def.States[name]) return def
  const next = rewriteReferences(def, (n) => (n === name ? '' : undefined))
  delete next.States[name]
  for (const d of [...(next.Deadlines ?? []), ...Object.values(next.States).flatMap((s: Json) => s.Deadlines ?? [])])
    if (Array.isArray(d.StopAt)) d.StopAt = d.StopAt.filter(Boolean)
  return next
}

/** Where a problem's JSON path points: a state (node), a transition (edge) or the workflow as a whole. */
export interface Target { node?: string; edge?: string }

export function targetOf(def: WorkflowDef, path: string): Target {
  if (path === 'StartAt') return { node: def.StartAt in def.States ? def.StartAt : undefined }
  const wide = /^Deadlines\[(\d+)\]\.Escalate\[(\d+)\]/.exec(path)
  if (wide) return {}
  const m = /^States\.([A-Za-z0-9_]+)(.*)$/.exec(path)
  if (!m) return {}
  const [, node, rest] = m
  if (!def.States[node]) return {}
  const slot = slotOf(rest)
  const edge = slot ? edgeId(node, slot) : undefined
  return edge && transitions(def).some((t) => t.id === edge) ? { node, edge } : { node }
}

function slotOf(rest: string): string | null {
  let m: RegExpExecArray | null
  if ((m = /^\.Actions\.([A-Za-z0-9_]+)\.Next/.exec(rest))) return `action:${m[1]}`
  if (/^\.OnApprove/.test(rest)) return 'approve'
  if (/^\.OnReject/.test(rest)) return 'reject'
  if ((m = /^\.Choices\[(\d+)\]\.Next/.exec(rest))) return `choice:${m[1]}`
  if (/^\.Default/.test(rest)) return 'default'
  if ((m = /^\.Events\.([a-z0-9_]+)\.Next/.exec(rest))) return `event:${m[1]}`
  if ((m = /^\.Catch\[(\d+)\]\.Next/.exec(rest))) return `catch:${m[1]}`
  if ((m = /^\.Deadlines\[(\d+)\]\.Escalate\[(\d+)\]\.Goto/.exec(rest))) return `deadline:${m[1]}:${m[2]}`
  if (/^\.Next/.test(rest)) return null // Next of an Action or Wait: resolved by the caller below
  return null
}

/** The problems grouped by node and edge (a state's `Next` goes to its one `next`/`wait` edge). */
export function problemsByTarget(def: WorkflowDef, problems: { path: string; message: string }[]) {
  const nodes: Record<string, string[]> = {}
  const edges: Record<string, string[]> = {}
  const general: { path: string; message: string }[] = []
  const all = transitions(def)
  for (const p of problems) {
    let t = targetOf(def, p.path)
    const next = /^States\.([A-Za-z0-9_]+)\.Next/.exec(p.path)
    if (next && def.States[next[1]]) {
      const e = all.find((x) => x.from === next[1] && (x.slot === 'next' || x.slot === 'wait'))
      t = { node: next[1], edge: e?.id }
    }
    if (t.edge && all.find((x) => x.id === t.edge)?.to && def.States[all.find((x) => x.id === t.edge)!.to]) (edges[t.edge] ??= []).push(p.message)
    if (t.node) (nodes[t.node] ??= []).push(p.message)
    else general.push(p)
  }
  return { nodes, edges, general }
}

export const NODE_W = 180
export const NODE_H = 56

/** dagre's layered layout, top to bottom (a long process stays readable in a narrow canvas), of the states and their transitions: top-left positions. */
export function autoLayout(def: WorkflowDef): Record<string, { x: number; y: number }> {
  const g = new dagre.graphlib.Graph({ multigraph: true })
  g.setGraph({ rankdir: 'TB', nodesep: 40, ranksep: 50, marginx: 10, marginy: 10 })
  g.setDefaultEdgeLabel(() => ({}))
  for (const name of Object.keys(def.States)) g.setNode(name, { width: NODE_W, height: NODE_H })
  for (const t of transitions(def)) if (t.to && def.States[t.to] && t.to !== t.from) g.setEdge(t.from, t.to, {}, t.id)
  dagre.layout(g)
  const out: Record<string, { x: number; y: number }> = {}
  for (const name of Object.keys(def.States)) {
    const n = g.node(name)
    out[name] = { x: Math.round(n.x - NODE_W / 2), y: Math.round(n.y - NODE_H / 2) }
  }
  return out
}

/** The state's label in a language (Translations), else its Label, else its name. */
export function labelOf(def: WorkflowDef, name: string, language: string): string {
  const s = def.States[name]
  return s?.Translations?.[language]?.Label || s?.Label || name
}

/** What a new version changes in its timers: deadlines added, removed or changed, per state. */
export function timerChanges(before: WorkflowDef, after: WorkflowDef, renames: Record<string, string> = {}) {
  const out: { state: string; deadline: string; change: 'added' | 'removed' | 'changed' }[] = []
  const key = (d: Json) => JSON.stringify({ ...d, Label: undefined, Translations: undefined })
  const list = (def: WorkflowDef, state: string) => Object.fromEntries((def.States[state]?.Deadlines ?? []).map((d: Json) => [d.Name, d]))
  const renamedFrom = Object.fromEntries(Object.entries(renames).map(([a, b]) => [b, a]))
  for (const state of Object.keys(after.States)) {
    const old = list(before, renamedFrom[state] ?? state)
    const now = list(after, state)
    for (const [n, d] of Object.entries(now)) if (!old[n]) out.push({ state, deadline: n, change: 'added' }); else if (key(old[n]) !== key(d)) out.push({ state, deadline: n, change: 'changed' })
    for (const n of Object.keys(old)) if (!now[n]) out.push({ state, deadline: n, change: 'removed' })
  }
  const wide = (def: WorkflowDef) => Object.fromEntries((def.Deadlines ?? []).map((d: Json) => [d.Name, key(d)]))
  const a = wide(before), b = wide(after)
  for (const n of new Set([...Object.keys(a), ...Object.keys(b)]))
    if (a[n] !== b[n]) out.push({ state: '*', deadline: n, change: !a[n] ? 'added' : !b[n] ? 'removed' : 'changed' })
  return out
}

// ---- Choice rules as a tree ---------------------------------------------------------------------------
// A rule is a comparison (Variable + one operator), a Condition (an expression), or And / Or (a list of
// rules) / Not (one rule), nested as deep as needed; only a top-level rule has Next. A node of the tree is
// reached by a path: the index in an And/Or list, or 'Not'.

export type RuleKind = 'compare' | 'Condition' | 'And' | 'Or' | 'Not'
export type RuleStep = number | 'Not'
export const RULE_KINDS: RuleKind[] = ['compare', 'And', 'Or', 'Not', 'Condition']

export function ruleKind(rule: Json): RuleKind {
  if (rule && typeof rule === 'object') {
    if (Array.isArray(rule.And)) return 'And'
    if (Array.isArray(rule.Or)) return 'Or'
    if (rule.Not && typeof rule.Not === 'object') return 'Not'
    if ('Condition' in rule) return 'Condition'
  }
  return 'compare'
}

/** A comparison still to be filled in (the draft check names what is missing). */
export const blankComparison = (): Json => ({ Variable: '', StringEquals: '' })

/** The operator of a comparison (the first one it has), StringEquals when it has none yet. */
export const operatorOf = (rule: Json): string => OPERATORS.find((o) => rule && o in rule) ?? 'StringEquals'

const numericOp = (op: string) => op.startsWith('Numeric')
const booleanOp = (op: string) => ['BooleanEquals', 'IsPresent', 'IsNull'].includes(op)

/** A value typed for an operator: a number for Numeric*, true/false for the boolean ones, else the text. */
export function operandOf(op: string, text: string): Json {
  if (numericOp(op)) return text.trim() !== '' && Number.isFinite(Number(text)) ? Number(text) : 0
  if (booleanOp(op)) return text === 'true'
  return text
}

/** The comparison with another operator: the value carried over as far as it fits the new one. */
export function withOperator(rule: Json, op: string): Json {
  const old = operatorOf(rule)
  const out: Json = {}
  for (const [k, v] of Object.entries(rule ?? {})) if (!(OPERATORS as readonly string[]).includes(k)) out[k] = v
  out[op] = operandOf(op, rule?.[old] === undefined ? (booleanOp(op) ? 'true' : '') : String(rule[old]))
  return out
}

export function ruleAt(rule: Json, path: RuleStep[]): Json {
  return path.reduce((node, step) => (step === 'Not' ? node?.Not : (node?.And ?? node?.Or)?.[step]), rule)
}

/** The rule with the node at `path` replaced by `change(node)` (a copy; `rule` is left as it was). */
export function updateRule(rule: Json, path: RuleStep[], change: (node: Json) => Json): Json {
  if (!path.length) return change(rule)
  const [step, ...rest] = path
  if (step === 'Not') return { ...rule, Not: updateRule(rule.Not, rest, change) }
  const key = Array.isArray(rule.And) ? 'And' : 'Or'
  return { ...rule, [key]: rule[key].map((child: Json, i: number) => (i === step ? updateRule(child, rest, change) : child)) }
}

/** A node turned into another kind: a comparison becomes the first rule of a new And / Or, or what a Not
 *  negates; And ↔ Or keep their rules; a compound node asked to be a comparison or a condition becomes
 *  its first comparison (or condition) found, else a blank one. `top`: the node is a top-level rule, whose
 *  Next stays with it. */
export function withKind(node: Json, kind: RuleKind, top = false): Json {
  const current = ruleKind(node)
  if (current === kind) return node
  const next = top && node && 'Next' in node ? { Next: node.Next } : {}
  const { Next: _next, ...inner } = node ?? {}
  if ((kind === 'And' || kind === 'Or') && (current === 'And' || current === 'Or')) return { [kind]: inner[current], ...next }
  if (kind === 'And' || kind === 'Or') return { [kind]: [inner, blankComparison()], ...next }
  if (kind === 'Not') return { Not: inner, ...next }
  const found = firstLeaf(inner, kind)
  return { ...(found ?? (kind === 'Condition' ? { Condition: '' } : blankComparison())), ...next }
}

function firstLeaf(rule: Json, kind: 'compare' | 'Condition'): Json | null {
  const k = ruleKind(rule)
  if (k === kind) return rule
  if (k === 'Not') return firstLeaf(rule.Not, kind)
  if (k === 'And' || k === 'Or') for (const child of rule[k]) { const hit = firstLeaf(child, kind); if (hit) return hit }
  return null
}

/** A blank comparison added to the And / Or at `path`. */
export const addRuleChild = (rule: Json, path: RuleStep[]): Json =>
  updateRule(rule, path, (node) => { const key = ruleKind(node); return key === 'And' || key === 'Or' ? { ...node, [key]: [...node[key], blankComparison()] } : node })

/** The rule at `path` (a member of an And / Or) removed; the last member of a list stays (an empty And /
 *  Or is invalid: change the list's kind instead). */
export function removeRuleChild(rule: Json, path: RuleStep[]): Json {
  const index = path[path.length - 1]
  if (typeof index !== 'number') return rule
  return updateRule(rule, path.slice(0, -1), (node) => {
    const key = ruleKind(node)
    if ((key !== 'And' && key !== 'Or') || node[key].length < 2) return node
    return { ...node, [key]: node[key].filter((_: Json, i: number) => i !== index) }
  })
}

/** Every comparison's field in a rule, as `$.field` → `field` (for the check's messages and the list). */
export function ruleFields(rule: Json): string[] {
  const k = ruleKind(rule)
  if (k === 'And' || k === 'Or') return [...new Set(rule[k].flatMap(ruleFields))] as string[]
  if (k === 'Not') return ruleFields(rule.Not)
  if (k === 'compare' && rule?.Variable) return [String(rule.Variable).replace(/^\$\./, '')]
  return []
}

// ---- assignee rules ----------------------------------------------------------------------------------
// chalicelib/workflow/definition.py `AssigneeRule`: exactly one of Role (anyone holding it), Field (the user
// in a user field of the record), Users (named users), Lookup (the user in `UserField` of the `Form` record
// whose `MatchField` equals this record's `ValueField`), and an optional Fallback rule when it finds nobody.

export const ASSIGNEE_KINDS = ['Role', 'Field', 'Users', 'Lookup'] as const
export type AssigneeKind = (typeof ASSIGNEE_KINDS)[number]

export function assigneeKind(rule: Json): AssigneeKind {
  return ASSIGNEE_KINDS.find((k) => rule && typeof rule === 'object' && rule[k] !== undefined && rule[k] !== null) ?? 'Role'
}

/** The rule as another kind, its Fallback kept; what the kinds share (nothing) starts blank. */
export function withAssigneeKind(rule: Json, kind: AssigneeKind): Json {
  if (assigneeKind(rule) === kind && rule?.[kind] !== undefined) return rule
  const blank: Record<AssigneeKind, Json> = { Role: '', Field: '', Users: [], Lookup: { Form: '', MatchField: '', ValueField: '', UserField: '' } }
  return { [kind]: blank[kind], ...(rule?.Fallback ? { Fallback: rule.Fallback } : {}) }
}

/** "ann, bob ,, cy" → ["ann", "bob", "cy"] */
export const userList = (text: string): string[] => text.split(',').map((u) => u.trim()).filter(Boolean)

/** An assignee rule in a few words: `role agent`, `field engineer`, `users ann, bob`, `lookup region.supervisor`, `… else …`. */
export function assigneeText(rule: Json): string {
  if (!rule || typeof rule !== 'object') return ''
  const kind = assigneeKind(rule)
  const own = kind === 'Role' ? `role ${rule.Role}` : kind === 'Field' ? `field ${rule.Field}` : kind === 'Users' ? `users ${(rule.Users ?? []).join(', ')}`
    : `lookup ${rule.Lookup?.Form ?? ''}.${rule.Lookup?.UserField ?? ''}`
  return rule.Fallback ? `${own} else ${assigneeText(rule.Fallback)}` : own
}

/** An approval's mode changed: a chain takes its levels (the group's rule as level 1 when there are
 *  none yet), the other modes one Approvers rule (a chain's first level when there is none). */
export function withApprovalMode(state: Json, mode: string): Json {
  const out: Json = { ...state, Mode: mode }
  if (mode === 'chain') {
    if (!Array.isArray(out.Levels) || !out.Levels.length) out.Levels = [out.Approvers ?? { Role: '' }]
    delete out.Approvers
    delete out.ThresholdPercent
  } else {
    if (!out.Approvers) out.Approvers = Array.isArray(out.Levels) && out.Levels.length ? out.Levels[0] : { Role: '' }
    delete out.Levels
    if (mode === 'threshold') out.ThresholdPercent = out.ThresholdPercent ?? 50
    else delete out.ThresholdPercent
  }
  return out
}
