// The permissions designer's pure part: a form definition's `permissions` (chalicelib/forms/definition.py
// FormPermissions) as the grid edits it, and back. Only `permissions` ever changes: every other key of the
// definition is carried through untouched, and inside `permissions` only the list, rule or grant edited.
// Also: the roles the grid offers, the change summary before saving, a check's JSON path → the cell it concerns.

export type Json = any
export type Definition = Record<string, Json>

/** The record actions, then the reserved grants of the bulk and reporting features. */
export const RECORD_ACTIONS = ['create', 'read', 'update', 'delete'] as const
export const RESERVED_ACTIONS = ['export', 'import', 'report', 'share'] as const
export const ACTIONS = [...RECORD_ACTIONS, ...RESERVED_ACTIONS] as const
export type Action = (typeof ACTIONS)[number]
export type FieldKind = 'hidden' | 'readonly'

/** The role every member holds ('*'), and the role that may always do everything (never a choice). */
export const EVERYONE = '*'
export const ADMIN = 'admin'
/** An action a definition leaves out grants it to admins only (the model's default). */
const DEFAULT_GRANT = [ADMIN]

const permissionsOf = (def: Definition): Record<string, Json> =>
  def && typeof def.permissions === 'object' && def.permissions !== null ? def.permissions : {}

function withPermissions(def: Definition, permissions: Record<string, Json>): Definition {
  return { ...def, permissions }
}

/** The roles granted `action` on the form, as the server reads them (absent → admins only). */
export function grantOf(def: Definition, action: Action): string[] {
  const list = permissionsOf(def)[action]
  return Array.isArray(list) ? list : DEFAULT_GRANT
}

export function hasGrant(def: Definition, action: Action, role: string): boolean {
  return role === ADMIN || grantOf(def, action).includes(role)
}

/** `role` granted `action` or not: added at the end of the list, or removed from it; else unchanged. */
export function setGrant(def: Definition, action: Action, role: string, on: boolean): Definition {
  const list = grantOf(def, action)
  if (list.includes(role) === on) return def
  const next = on ? [...list, role] : list.filter((r) => r !== role)
  return withPermissions(def, { ...permissionsOf(def), [action]: next })
}

export function rowRule(def: Definition, role: string): string {
  const rule = permissionsOf(def).rows?.[role]
  return typeof rule === 'string' ? rule : ''
}

/** The row rule of `role`; empty text removes it (and `rows` when it is left empty). */
export function setRowRule(def: Definition, role: string, rule: string): Definition {
  const permissions = permissionsOf(def)
  const rows: Record<string, string> = { ...(permissions.rows ?? {}) }
  if (rule.trim() === '') delete rows[role]
  else rows[role] = rule
  const { rows: _old, ...rest } = permissions
  return withPermissions(def, Object.keys(rows).length || 'rows' in permissions ? { ...rest, rows } : rest)
}

export function fieldList(def: Definition, role: string, kind: FieldKind): string[] {
  const list = permissionsOf(def).fields?.[role]?.[kind]
  return Array.isArray(list) ? list : []
}

/** `field` hidden from (or read-only for) `role`, or not; an emptied grant is removed. */
export function setFieldFlag(def: Definition, role: string, kind: FieldKind, field: string, on: boolean): Definition {
  const current = fieldList(def, role, kind)
  if (current.includes(field) === on) return def
  const permissions = permissionsOf(def)
  const fields: Record<string, Record<string, string[]>> = { ...(permissions.fields ?? {}) }
  const grant = { ...(fields[role] ?? {}), [kind]: on ? [...current, field] : current.filter((f) => f !== field) }
  for (const k of ['hidden', 'readonly'] as const) if (Array.isArray(grant[k]) && grant[k].length === 0) delete grant[k]
  if (Object.keys(grant).length) fields[role] = grant
  else delete fields[role]
  return withPermissions(def, { ...permissions, fields })
}

/** The top-level fields a grant may name (sub-table columns are covered by their table). */
export function grantableFields(def: Definition): Record<string, Json>[] {
  return Array.isArray(def?.fields) ? def.fields.filter((f: Json) => f && typeof f.name === 'string') : []
}

/** Every role the grid offers: the tenant's members' roles and those the definitions name, sorted,
 *  with '*' first; admin left out (it may always do everything). */
export function rolesOf(defs: Definition[], memberRoles: string[] = []): string[] {
  const found = new Set<string>(memberRoles)
  for (const def of defs) {
    const p = permissionsOf(def)
    for (const action of ACTIONS) for (const role of grantOf(def, action)) found.add(role)
    for (const role of Object.keys(p.rows ?? {})) found.add(role)
    for (const role of Object.keys(p.fields ?? {})) found.add(role)
  }
  found.delete(ADMIN)
  found.delete(EVERYONE)
  return [EVERYONE, ...[...found].filter((r) => typeof r === 'string' && r !== '').sort()]
}

// ---- what changed ------------------------------------------------------------------------------------

export type Change =
  | { kind: 'grant' | 'revoke'; form: string; role: string; action: Action }
  | { kind: 'hide' | 'show' | 'readonly' | 'writable'; form: string; role: string; field: string }
  | { kind: 'rule' | 'ruleChanged' | 'ruleRemoved'; form: string; role: string; rule: string; before: string }

/** What a draft changes in a form's permissions, action by action, then field grants, then row rules. */
export function changesOf(form: string, before: Definition, after: Definition): Change[] {
  const out: Change[] = []
  for (const action of ACTIONS) {
    const a = grantOf(before, action)
    const b = grantOf(after, action)
    for (const role of b) if (!a.includes(role)) out.push({ kind: 'grant', form, role, action })
    for (const role of a) if (!b.includes(role)) out.push({ kind: 'revoke', form, role, action })
  }
  const grantRoles = new Set([...Object.keys(permissionsOf(before).fields ?? {}), ...Object.keys(permissionsOf(after).fields ?? {})])
  for (const role of grantRoles) {
    for (const [kind, on, off] of [['hidden', 'hide', 'show'], ['readonly', 'readonly', 'writable']] as const) {
      const a = fieldList(before, role, kind)
      const b = fieldList(after, role, kind)
      for (const field of b) if (!a.includes(field)) out.push({ kind: on, form, role, field })
      for (const field of a) if (!b.includes(field)) out.push({ kind: off, form, role, field })
    }
  }
  const ruleRoles = new Set([...Object.keys(permissionsOf(before).rows ?? {}), ...Object.keys(permissionsOf(after).rows ?? {})])
  for (const role of ruleRoles) {
    const a = rowRule(before, role)
    const b = rowRule(after, role)
    if (a === b) continue
    out.push({ kind: !a ? 'rule' : !b ? 'ruleRemoved' : 'ruleChanged', form, role, rule: b, before: a })
  }
  return out
}

/** The change in plain English (the tests' words; the page says it through i18n with the same parts). */
export function describeChange(c: Change): string {
  const who = c.role === EVERYONE ? 'every member' : c.role
  switch (c.kind) {
    case 'grant': return `${who} may now ${c.action} ${c.form}`
    case 'revoke': return `${who} may no longer ${c.action} ${c.form}`
    case 'hide': return `${c.form}.${c.field} is now hidden from ${who}`
    case 'show': return `${c.form}.${c.field} is no longer hidden from ${who}`
    case 'readonly': return `${c.form}.${c.field} is now read-only for ${who}`
    case 'writable': return `${c.form}.${c.field} is no longer read-only for ${who}`
    case 'rule': return `${who} sees only ${c.form} records where ${c.rule}`
    case 'ruleChanged': return `${who} sees only ${c.form} records where ${c.rule} (was ${c.before})`
    case 'ruleRemoved': return `${who} sees every ${c.form} record (no row rule)`
  }
}

// ---- a check's problems, where they belong -------------------------------------------------------------

/** Where a problem is shown: a grid cell (action × role), a role's row rule, a field grant, else the form. */
export type Target =
  | { kind: 'action'; action: Action; role: string | null }
  | { kind: 'row'; role: string }
  | { kind: 'field'; role: string; list: FieldKind; field: string | null }
  | { kind: 'form' }

/** `permissions.update[2]` → the update cell of the role at [2]; `permissions.rows.engineer` → engineer's
 *  row rule; `permissions.fields.engineer.hidden[0]` → that field grant; anything else → the form. */
export function targetOf(def: Definition, path: string): Target {
  let m = /^permissions\.(create|read|update|delete|export|import|report|share)(?:\[(\d+)\])?$/.exec(path)
  if (m) {
    const action = m[1] as Action
    const role = m[2] !== undefined ? grantOf(def, action)[Number(m[2])] ?? null : null
    return { kind: 'action', action, role }
  }
  m = /^permissions\.rows\.(.+)$/.exec(path)
  if (m) return { kind: 'row', role: m[1] }
  m = /^permissions\.fields\.(.+)\.(hidden|readonly)(?:\[(\d+)\])?$/.exec(path)
  if (m) {
    const list = m[2] as FieldKind
    const field = m[3] !== undefined ? fieldList(def, m[1], list)[Number(m[3])] ?? null : null
    return { kind: 'field', role: m[1], list, field }
  }
  return { kind: 'form' }
}

/** A stable key for a target, to look problems up from the cell drawing them. */
export function targetKey(t: Target): string {
  switch (t.kind) {
    case 'action': return `action:${t.action}:${t.role ?? ''}`
    case 'row': return `row:${t.role}`
    case 'field': return `field:${t.role}:${t.list}:${t.field ?? ''}`
    case 'form': return 'form'
  }
}

export const cellKey = (action: Action, role: string) => targetKey({ kind: 'action', action, role })
export const rowKey = (role: string) => targetKey({ kind: 'row', role })
export const fieldKey = (role: string, list: FieldKind, field: string) => targetKey({ kind: 'field', role, list, field })

/** Problems grouped by the key of what they concern; a cell-less one (an action's list as a whole, a
 *  grant's list) also goes to `form` so it is never lost. */
export function problemsByTarget(def: Definition, problems: { path: string; message: string }[]): Record<string, string[]> {
  const out: Record<string, string[]> = {}
  const add = (key: string, message: string) => { (out[key] ??= []).push(message) }
  for (const p of problems) {
    const target = targetOf(def, p.path)
    const key = targetKey(target)
    add(key, p.message)
    if ((target.kind === 'action' && !target.role) || (target.kind === 'field' && !target.field)) add('form', `${p.path}: ${p.message}`)
  }
  return out
}

/** The definition to save: the loaded one with the draft's permissions, nothing else touched. */
export function toSave(loaded: Definition, draft: Definition): Definition {
  return { ...loaded, permissions: permissionsOf(draft) }
}

/** The fields hidden from `role` that it still sees: a role reads through every member ('*') too when
 *  '*' may read, and each role's view is combined with the others', so hiding a field from one role only
 *  takes effect if it is hidden from '*' as well (or '*' may not read). */
export function stillSeen(def: Definition, role: string): string[] {
  if (role === EVERYONE || !grantOf(def, 'read').includes(EVERYONE)) return []
  const everyoneHides = fieldList(def, EVERYONE, 'hidden')
  return fieldList(def, role, 'hidden').filter((f) => !everyoneHides.includes(f))
}

/** One change made again on another definition (a version published since the grid loaded). */
export function applyChange(def: Definition, c: Change): Definition {
  switch (c.kind) {
    case 'grant': case 'revoke': return setGrant(def, c.action, c.role, c.kind === 'grant')
    case 'hide': case 'show': return setFieldFlag(def, c.role, 'hidden', c.field, c.kind === 'hide')
    case 'readonly': case 'writable': return setFieldFlag(def, c.role, 'readonly', c.field, c.kind === 'readonly')
    default: return setRowRule(def, c.role, c.kind === 'ruleRemoved' ? '' : c.rule)
  }
}

/** The draft's changes on `latest`: what the grid changed, and everything else as `latest` has it. */
export function rebase(latest: Definition, changes: Change[]): Definition {
  return changes.reduce(applyChange, latest)
}
