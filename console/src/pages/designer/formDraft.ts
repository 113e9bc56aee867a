// The form designer's pure part: a form definition (GET /definitions/form/{name}/versions/{v}) as a
// draft the designer edits, and back. The draft only wraps the definition's own objects: every key the
// designer does not edit (permissions, storage, indexes, fetch_from, settings it does not know...) is
// carried through untouched, in its place. Also: the field types the server accepts (from the served
// JSON Schema of the `form` kind), a new field of a type, and a problem's JSON path → the field it concerns.

export type Json = any
export type FieldJson = Record<string, Json>

export interface DraftField {
  /** stable while the designer is open (drag and drop, selection); never sent */
  key: string
  field: FieldJson
  /** a sub-table's columns, as draft fields */
  children?: DraftField[]
}

export interface Draft {
  /** the definition as loaded, its `fields` superseded by `fields` below */
  form: Record<string, Json>
  fields: DraftField[]
}

export const LANGUAGES = ['en', 'zh-CN'] as const
export type Language = (typeof LANGUAGES)[number]

let counter = 0
export const newKey = () => `f${++counter}`

function toDraftField(field: FieldJson): DraftField {
  const draft: DraftField = { key: newKey(), field }
  if (field?.type === 'subtable' && Array.isArray(field.fields)) draft.children = field.fields.map(toDraftField)
  return draft
}

export function toDraft(definition: Record<string, Json>): Draft {
  const fields = Array.isArray(definition?.fields) ? definition.fields : []
  return { form: definition ?? {}, fields: fields.map(toDraftField) }
}

function fromDraftField(draft: DraftField): FieldJson {
  return draft.children ? { ...draft.field, fields: draft.children.map(fromDraftField) } : draft.field
}

/** The definition to check, save or diff: the loaded one with the draft's fields, keys in their order. */
export function toDefinition(draft: Draft): Record<string, Json> {
  return { ...draft.form, fields: draft.fields.map(fromDraftField) }
}

/** A copy of `object` with `key` set (in its place if present), or removed when `value` is undefined. */
export function withKey<T extends Record<string, Json>>(object: T, key: string, value: Json): T {
  if (value === undefined) {
    if (!(key in object)) return object
    const { [key]: _drop, ...rest } = object
    return rest as T
  }
  return { ...object, [key]: value }
}

/** A text in a language: `en` is the author's words (`label`, `title`), zh-CN its translation. */
export function textOf(node: Record<string, Json> | undefined, key: string, language: Language): string {
  if (!node) return ''
  if (language === 'en') return typeof node[key] === 'string' ? node[key] : ''
  const text = node.translations?.[language]?.[key]
  return typeof text === 'string' ? text : ''
}

export function withText<T extends Record<string, Json>>(node: T, key: string, language: Language, text: string): T {
  if (language === 'en') return withKey(node, key, text === '' ? undefined : text)
  const translations: Record<string, Record<string, string>> = { ...(node.translations ?? {}) }
  const mine = withKey({ ...(translations[language] ?? {}) }, key, text === '' ? undefined : text)
  if (Object.keys(mine).length) translations[language] = mine
  else delete translations[language]
  return withKey(node, 'translations', Object.keys(translations).length ? translations : undefined)
}

// ---- the field types -------------------------------------------------------------------------------

/** The server's field types (chalicelib/forms/fields.py), in the palette's order; the served schema
 *  (GET /definitions/schemas/form) is the authority when it has loaded: see `fieldTypes`. */
export const FIELD_TYPES = [
  'text', 'textarea', 'number', 'money', 'percent', 'date', 'datetime', 'time', 'duration', 'select',
  'multiselect', 'checkbox', 'rating', 'phone', 'email', 'url', 'geolocation', 'image', 'file', 'signature',
  'user', 'lookup', 'computed', 'subtable', 'auto_number',
]
/** Types a sub-table column may not have. */
export const TOP_LEVEL_ONLY = new Set(['subtable', 'auto_number'])

export interface TypeInfo {
  /** type → the JSON Schema of that field kind's settings (its `properties`) */
  settings: Record<string, Record<string, Json>>
  top: string[]
  rows: string[]
}

function resolve(schema: Json, ref: string): Json {
  return ref.replace(/^#\//, '').split('/').reduce((node, part) => node?.[part], schema)
}

/** The field types of the served `form` schema: top-level ones, sub-table columns, each type's settings. */
export function fieldTypes(schema: Json | undefined): TypeInfo {
  const order = (types: string[]) => [...FIELD_TYPES.filter((t) => types.includes(t)), ...types.filter((t) => !FIELD_TYPES.includes(t)).sort()]
  const mapping: Record<string, string> | undefined = schema?.properties?.fields?.items?.discriminator?.mapping
  if (!mapping) return { settings: {}, top: FIELD_TYPES, rows: FIELD_TYPES.filter((t) => !TOP_LEVEL_ONLY.has(t)) }
  const settings: TypeInfo['settings'] = {}
  for (const [type, ref] of Object.entries(mapping)) settings[type] = resolve(schema, ref)?.properties ?? {}
  const rowMapping: Record<string, string> = settings.subtable?.fields?.items?.discriminator?.mapping ?? {}
  return { settings, top: order(Object.keys(mapping)), rows: order(Object.keys(rowMapping)) }
}

/** A field of `type` named so that no other field at its level has its name. */
export function newField(type: string, taken: Iterable<string>, forms: string[] = []): FieldJson {
  const names = new Set(taken)
  let n = 1
  while (names.has(`${type}_${n}`)) n++
  const field: FieldJson = { name: `${type}_${n}`, type }
  if (type === 'select' || type === 'multiselect') field.options = [{ value: 'option_1', label: 'Option 1' }]
  if (type === 'lookup') field.form = forms[0] ?? ''
  if (type === 'computed') field.expression = '0'
  if (type === 'subtable') field.fields = [{ name: 'text_1', type: 'text' }]
  return field
}

// ---- a field's type changed after it was placed ------------------------------------------------------

/** What every field type has: carried over whatever the new type is. */
const COMMON = ['name', 'type', 'label', 'translations', 'description', 'required', 'visible_if', 'required_if', 'readonly_if']
/** Types whose values are alike: a default or a limit of one still means the same in another. */
const VALUE_FAMILY: Record<string, string> = {
  text: 'text', textarea: 'text', phone: 'text', email: 'text', url: 'text',
  number: 'number', money: 'number', percent: 'number', duration: 'number', rating: 'number',
}
/** Settings whose value is a value of the field (a default, a bound): kept only within a value family. */
const VALUED = new Set(['default', 'minimum', 'maximum'])

export interface TypeChanged {
  item: DraftField
  /** the settings the new type lacks (or whose values no longer fit it), left out */
  dropped: string[]
}

/** The field `item` turned into a `type`: the name, labels, description, required and the visible /
 *  required / read-only rules carry over, and every other setting the new type also has (from the served
 *  schema's `settings`; when it has not loaded, only those common ones); a default or a limit only between
 *  types whose values are alike (number → money, text → e-mail). The new type's own needs are added as a
 *  new field of that type has them (options, a lookup's form, an expression, a sub-table's first column); a
 *  sub-table's columns go when it stops being one. The draft's check then names anything left invalid. */
export function changeType(item: DraftField, type: string, settings: TypeInfo['settings'], forms: string[] = []): TypeChanged {
  const old = item.field
  if (old.type === type) return { item, dropped: [] }
  const allowed = settings[type]
  const has = (key: string) => (allowed ? key in allowed || key === 'type' || key === 'name' : COMMON.includes(key))
  const alike = VALUE_FAMILY[old.type] !== undefined && VALUE_FAMILY[old.type] === VALUE_FAMILY[type]
  const field: FieldJson = {}
  const dropped: string[] = []
  for (const [key, value] of Object.entries(old)) {
    if (key === 'type') field.type = type
    else if (key === 'fields' && type === 'subtable') continue // the columns are the draft's children
    else if (!has(key) || (VALUED.has(key) && !alike)) dropped.push(key)
    else field[key] = value
  }
  const fresh = newField(type, [], forms)
  for (const [key, value] of Object.entries(fresh)) if (!(key in field) && key !== 'name') field[key] = value
  if (type !== 'subtable') return { item: { key: item.key, field }, dropped }
  const children = item.children ?? (field.fields as FieldJson[]).map((c) => ({ key: newKey(), field: c }))
  return { item: { key: item.key, field, children }, dropped }
}

// ---- problems → fields ----------------------------------------------------------------------------

export interface Target {
  /** the draft field concerned (a sub-table column's own key when in one), null for the form itself */
  key: string | null
  /** the setting concerned: `expression`, `options`, `minimum`..., null for the field as a whole */
  prop: string | null
}

/** "fields[3].fields[0].expression" (check and upload problems) or "/fields/3/fields/0/expression"
 *  (diff changes) → its parts: ["fields", 3, "fields", 0, "expression"]. */
export function pathParts(path: string): (string | number)[] {
  if (path.startsWith('/')) return path.slice(1).split('/').map((p) => (/^\d+$/.test(p) ? Number(p) : p.replace(/~1/g, '/').replace(/~0/g, '~')))
  const parts: (string | number)[] = []
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) parts.push(m[2] !== undefined ? Number(m[2]) : m[1])
  return parts
}

/** Which draft field (and setting) a problem's path names. `checked`: the definition the path was
 *  found in, when the draft has changed since (a field moved while its check was on the way): its
 *  indexes are read there and the field found in the draft by name. */
export function targetOf(path: string, draft: Draft, checked?: Record<string, Json> | null): Target {
  const parts = pathParts(path)
  if (parts[0] !== 'fields' || typeof parts[1] !== 'number') return { key: null, prop: parts.length ? String(parts[0]) : null }
  const pick = (list: DraftField[], index: number, names: Json[] | undefined) => {
    const name = names?.[index]?.name
    return (name !== undefined && list.find((f) => f.field.name === name)) || list[index]
  }
  const then: Json[] | undefined = checked && Array.isArray(checked.fields) ? checked.fields : undefined
  const top = pick(draft.fields, parts[1], then)
  if (!top) return { key: null, prop: 'fields' }
  if (parts[2] === 'fields' && typeof parts[3] === 'number' && top.children) {
    const column = pick(top.children, parts[3], then?.[parts[1]]?.fields)
    if (column) return { key: column.key, prop: parts[4] !== undefined ? String(parts[4]) : null }
  }
  return { key: top.key, prop: parts[2] !== undefined ? String(parts[2]) : null }
}

export interface Problem { path: string; message: string }
export interface Placed extends Problem { key: string | null; prop: string | null }

export const placeProblems = (problems: Problem[], draft: Draft, checked?: Record<string, Json> | null): Placed[] =>
  problems.map((p) => ({ ...p, ...targetOf(p.path ?? '', draft, checked) }))

/** "unknown field 'levle' at position 0" → 0 */
export function positionOf(message: string): number | null {
  const m = /at position (\d+)/.exec(message)
  return m ? Number(m[1]) : null
}

/** A draft field by key, with the sub-table it is a column of. */
export function findField(draft: Draft, key: string | null): { field: DraftField; parent: DraftField | null } | null {
  if (!key) return null
  for (const top of draft.fields) {
    if (top.key === key) return { field: top, parent: null }
    const child = top.children?.find((c) => c.key === key)
    if (child) return { field: child, parent: top }
  }
  return null
}

/** The draft with the field `key` (top level or a column) replaced by `change(it)`. */
export function updateField(draft: Draft, key: string, change: (f: DraftField) => DraftField): Draft {
  return {
    ...draft,
    fields: draft.fields.map((top) => {
      if (top.key === key) return change(top)
      if (top.children?.some((c) => c.key === key)) return { ...top, children: top.children.map((c) => (c.key === key ? change(c) : c)) }
      return top
    }),
  }
}

export function removeField(draft: Draft, key: string): Draft {
  return {
    ...draft,
    fields: draft.fields.filter((f) => f.key !== key).map((top) => (top.children?.some((c) => c.key === key) ? { ...top, children: top.children.filter((c) => c.key !== key) } : top)),
  }
}

export function moveItem<T>(list: T[], from: number, to: number): T[] {
  if (from === to || from < 0 || to < 0 || from >= list.length || to >= list.length) return list
  const out = list.slice()
  const [item] = out.splice(from, 1)
  out.splice(to, 0, item)
  return out
}

/** Where a diff change is, in words a designer reads: "priority · label" from "/fields/11/label". */
export function describePath(path: string, definition: Record<string, Json> | undefined): string {
  const parts = pathParts(path)
  const words: string[] = []
  let node: Json = definition
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]
    if (typeof part === 'number' && Array.isArray(node)) {
      const item = node[part]
      if (item && typeof item === 'object' && (item.name || item.value)) words[words.length - 1] = String(item.name ?? item.value)
      else words.push(`#${part + 1}`)
      node = item
    } else {
      words.push(String(part))
      node = node?.[part]
    }
  }
  return words.filter((w) => w !== 'fields' || words.length === 1).join(' · ') || '/'
}

// --- filterable fields (the form's `indexes`) ------------------------------------------------------------
/** The field types the server indexes (the served schema's `indexes` x-indexable-types). */
export function indexableTypes(schema: Json | undefined): string[] {
  const types = schema?.properties?.indexes?.['x-indexable-types']
  return Array.isArray(types) ? types.filter((t): t is string => typeof t === 'string') : []
}

export const indexesOf = (form: Record<string, Json>): string[] =>
  Array.isArray(form.indexes) ? form.indexes.filter((n): n is string => typeof n === 'string') : []

/** The top-level fields a list could be filtered by that are not yet (in field order). */
export function indexCandidates(draft: Draft, indexable: string[]): DraftField[] {
  const taken = new Set(indexesOf(draft.form))
  return draft.fields.filter((f) => indexable.includes(String(f.field.type)) && !taken.has(String(f.field.name)))
}

/** The form with `name` appended to its indexes (a published index keeps its place: new ones go last). */
export const withIndex = (form: Record<string, Json>, name: string): Record<string, Json> =>
  indexesOf(form).includes(name) ? form : { ...form, indexes: [...indexesOf(form), name] }

/** The form without the index on `name`; an index the published version has stays (the server keeps them). */
export function withoutIndex(form: Record<string, Json>, name: string, published: string[]): Record<string, Json> {
  if (published.includes(name)) return form
  const left = indexesOf(form).filter((n) => n !== name)
  return withKey(form, 'indexes', left.length ? left : undefined)
}
