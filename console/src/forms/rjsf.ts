// The platform's JSON Schema (GET /forms/{form}/schema, already cut to what this reader may see) →
// what react-jsonschema-form draws well, plus its uiSchema. The server's schema stays exactly what
// the engine accepts; this adapter only changes presentation:
// - optional fields come as anyOf [schema, null]: drawn as the schema itself (an empty input = no value);
// - select options carry their labels (oneOf const/title), multiselects too;
// - decimals lose multipleOf (float arithmetic rejects 19.99 against 0.01; the server checks scale);
// - server-set fields (computed, auto-number, server-owned) and attachments are left out of the form
//   (shown on the record page; attachments go through the presigned upload flow);
// - textarea, date and date-time widgets; lookups get a record picker.
import { formatDateTime } from '../lib/i18n'

export type JsonSchema = Record<string, any>

export interface Adapted {
  schema: JsonSchema
  uiSchema: Record<string, any>
  fields: string[]
}

const ATTACHMENT_TYPES = new Set(['image', 'file', 'signature'])

export function unwrapNullable(prop: JsonSchema): JsonSchema {
  if (Array.isArray(prop.anyOf) && prop.anyOf.length === 2 && prop.anyOf.some((s: JsonSchema) => s?.type === 'null')) {
    const inner = prop.anyOf.find((s: JsonSchema) => s?.type !== 'null')
    const { anyOf: _drop, ...rest } = prop
    return { ...rest, ...inner }
  }
  return prop
}

function cleanNumber(s: JsonSchema): JsonSchema {
  const { multipleOf: _m, ...rest } = s
  return rest
}

function withLabels(s: JsonSchema): JsonSchema {
  const options: { value: string; label: string }[] | undefined = s['x-options']
  if (Array.isArray(s.enum) && options) {
    const { enum: values, ...rest } = s
    return { ...rest, type: 'string', oneOf: values.map((v: string) => ({ const: v, title: options.find((o) => o.value === v)?.label || v })) }
  }
  if (s.type === 'array' && s.items && Array.isArray(s.items.enum) && options) {
    return {
      ...s,
      uniqueItems: true,
      items: { type: 'string', oneOf: s.items.enum.map((v: string) => ({ const: v, title: options.find((o) => o.value === v)?.label || v })) },
    }
  }
  return s
}

function stripXKeys(s: JsonSchema): JsonSchema {
  const out: JsonSchema = {}
  for (const [k, v] of Object.entries(s)) {
    if (k.startsWith('x-') || k === 'readOnly') continue
    if (v && typeof v === 'object' && !Array.isArray(v)) out[k] = stripXKeys(v)
    else if (Array.isArray(v)) out[k] = v.map((item) => (item && typeof item === 'object' ? stripXKeys(item) : item))
    else out[k] = v
  }
  return out
}

function adaptProperty(raw: JsonSchema, creating: boolean): { schema: JsonSchema; ui: Record<string, any> } | null {
  const prop = unwrapNullable(raw)
  const type = prop['x-type'] as string | undefined
  if (prop['x-managed'] || (creating && prop['x-creatable'] === false)) return null
  if (prop.readOnly || (type && ATTACHMENT_TYPES.has(type)) || type === 'computed' || type === 'auto_number') return null
  const ui: Record<string, any> = {}
  let s = withLabels(cleanNumber(prop))
  if (prop['x-multiline']) ui['ui:widget'] = 'textarea'
  if (type === 'date') s = { ...s, format: 'date' }
  if (type === 'datetime') s = { ...s, format: 'date-time' }
  if (type === 'lookup') {
    ui['ui:widget'] = 'lookup'
    ui['ui:options'] = { form: String(prop['x-reference'] ?? '').replace(/^form:/, '') }
  }
  if (type === 'geolocation') ui['ui:field'] = 'geolocation'
  if (type === 'rating') ui['ui:widget'] = 'rating'
  if (type === 'subtable' && s.items?.properties) {
    const inner = adaptObject(s.items, new Set(Object.keys(s.items.properties)))
    s = { ...s, items: inner.schema }
    ui.items = inner.uiSchema
  }
  if (s.type === 'object' && s.properties && type !== 'subtable') s = { ...s, properties: Object.fromEntries(Object.entries(s.properties).map(([k, v]) => [k, cleanNumber(v as JsonSchema)])) }
  if (s.title === undefined && raw.title) s.title = raw.title
  return { schema: stripXKeys(s), ui }
}

function adaptObject(schema: JsonSchema, only?: Set<string>): Adapted {
  const creating = only === undefined
  const properties: JsonSchema = {}
  const uiSchema: Record<string, any> = {}
  const fields: string[] = []
  for (const [name, raw] of Object.entries<JsonSchema>(schema.properties ?? {})) {
    if (only && !only.has(name)) continue
    const adapted = adaptProperty(raw, creating)
    if (!adapted) continue
    properties[name] = adapted.schema
    if (Object.keys(adapted.ui).length) uiSchema[name] = adapted.ui
    fields.push(name)
  }
  const required = (schema.required ?? []).filter((n: string) => n in properties)
  uiSchema['ui:order'] = [...fields, '*']
  return { schema: { type: 'object', properties, ...(required.length ? { required } : {}) }, uiSchema, fields }
}

/** The form for a create (`only` undefined) or for editing just the fields `only` names. */
export function adaptSchema(schema: JsonSchema, only?: string[]): Adapted {
  const adapted = adaptObject(schema, only ? new Set(only) : undefined)
  if (schema.title) adapted.schema.title = undefined
  return adapted
}

/** Server problems {path: "data.x[0].y", message} → RJSF extraErrors. */
export function extraErrors(details: { path: string; message: string }[]): Record<string, any> {
  const out: Record<string, any> = {}
  for (const d of details) {
    if (!d.path?.startsWith('data.')) continue
    const parts = d.path.slice(5).split(/\.|\[(\d+)\]/).filter((p) => p !== undefined && p !== '')
    let node = out
    for (const part of parts) node = node[part] ??= {}
    ;(node.__errors ??= []).push(d.message)
  }
  return out
}

/** Only what changed, for a PATCH: unchanged echoes are not edits. */
export function changedFields(before: Record<string, any>, after: Record<string, any>): Record<string, any> {
  const out: Record<string, any> = {}
  for (const [k, v] of Object.entries(after)) {
    if (JSON.stringify(before[k] ?? null) !== JSON.stringify(v ?? null)) out[k] = v === undefined ? null : v
  }
  return out
}

/** A field's value as text for lists and the record page (never HTML). */
export function display(value: unknown, prop?: JsonSchema): string {
  if (value === null || value === undefined) return ''
  const p = prop ? unwrapNullable(prop) : undefined
  const options: { value: string; label: string }[] | undefined = p?.['x-options']
  if (options) {
    const label = (v: unknown) => options.find((o) => o.value === v)?.label || String(v)
    return Array.isArray(value) ? value.map(label).join(', ') : label(value)
  }
  if (p?.format === 'date-time' && typeof value === 'string') return formatDateTime(value) // in the reader's locale
  if (typeof value === 'boolean') return value ? '✓' : '✗'
  if (Array.isArray(value)) return value.map((v) => (typeof v === 'object' ? (v?.name ?? JSON.stringify(v)) : String(v))).join(', ')
  if (typeof value === 'object') {
    const v = value as Record<string, any>
    if ('lat' in v && 'lng' in v) return `${v.lat}, ${v.lng}`
    return v.name ?? JSON.stringify(v)
  }
  return String(value)
}
