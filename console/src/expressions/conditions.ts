/**
 * Form rules in the browser, decided as the server's form engine decides them
 * (chalicelib/forms/engine.py validate_record), from the form's published JSON Schema
 * (chalicelib/forms/schema.py):
 *
 *  - computed fields (`x-expression`) are evaluated first, in dependency order, over the data and the
 *    variables; one that errors (or gives null) has no value;
 *  - conditions see those computed values: `x-visible-if` (default visible), `x-required-if`,
 *    `x-readonly-if` (default false); a condition that errors counts as not met - false;
 *  - hidden fields keep no value and are never required or read-only; computed and auto-number
 *    fields are never hidden;
 *  - read-only rules guard edits of an existing record only (`previous` given) and are evaluated on
 *    the record as stored before the edit; `x-read-only` fields are immutable after create;
 *  - subtable rows: row conditions see the parent's context plus the row (and the row's computed
 *    values, computed in field order); paths are `rows[0].qty`.
 *
 * What the console cannot decide is reported in `undetermined` rather than guessed: an annotation the
 * server left out of this reader's schema (`x-server-condition`) or an expression that needs the
 * server (signature_valid). Such a rule takes its default here; the server's answer counts.
 */
import { ExpressionError, ServerOnlyExpression } from './errors'
import { compile } from './expression'
import { isList, isMapping, truthy, type Mapping, type Value } from './values'

export interface ConditionResult {
  hidden: Set<string>
  required: Set<string>
  readonly: Set<string>
  /** Computed fields' values (null: unknown on this data), by field name or row path. */
  computed: Record<string, Value>
  /** Fields whose rules or values only the server can decide here. */
  undetermined: Set<string>
}

export interface ConditionOptions {
  /** The record as stored, when editing one (read-only rules apply to edits only). */
  previous?: Mapping | null
}

type Schema = Mapping

interface FieldInfo {
  name: string
  schema: Schema // the field's own schema (anyOf-null unwrapped)
  annotations: Schema // where the x- annotations are
  required: boolean
}

const COMPUTED_BY_SERVER = new Set(['computed', 'auto_number'])

function fieldsOf(objectSchema: Schema): FieldInfo[] {
  const properties = isMapping(objectSchema.properties) ? objectSchema.properties : {}
  const required = new Set(isList(objectSchema.required) ? (objectSchema.required as string[]) : [])
  return Object.entries(properties)
    .filter(([, property]) => isMapping(property))
    .map(([name, property]) => {
      const annotations = property as Schema
      let schema = annotations
      if (isList(annotations.anyOf)) {
        const branch = annotations.anyOf.find((option) => isMapping(option) && option.type !== 'null')
        if (isMapping(branch)) schema = branch
      }
      return { name, schema, annotations, required: required.has(name) }
    })
}

const text = (schema: Schema, key: string): string | null => {
  const value = Object.prototype.hasOwnProperty.call(schema, key) ? schema[key] : null
  return typeof value === 'string' && value ? value : null
}

const isComputedByServer = (field: FieldInfo) => COMPUTED_BY_SERVER.has(String(field.annotations['x-type']))

class Run {
  readonly result: ConditionResult = {
    hidden: new Set(),
    required: new Set(),
    readonly: new Set(),
    computed: {},
    undetermined: new Set(),
  }

  /** engine._condition: no source -> default; an error -> false; server-only -> default, noted. */
  condition(field: FieldInfo, path: string, key: string, context: Mapping, fallback: boolean): boolean {
    // The server left out an annotation of this field that names a field hidden from this reader.
    if (field.annotations['x-server-condition'] === true) this.result.undetermined.add(path)
    const source = text(field.annotations, key)
    if (source === null) return fallback
    try {
      return truthy(compile(source).evaluate(context))
    } catch (error) {
      if (error instanceof ServerOnlyExpression) {
        this.result.undetermined.add(path)
        return fallback
      }
      if (error instanceof ExpressionError) return false
      throw error
    }
  }

  /** engine._computed_value (the value as the expression gives it: the schema carries no result type). */
  computedValue(field: FieldInfo, path: string, context: Mapping): Value {
    const source = text(field.annotations, 'x-expression')
    if (source === null) return null
    try {
      return compile(source).evaluate(context)
    } catch (error) {
      if (error instanceof ServerOnlyExpression) this.result.undetermined.add(path)
      else if (!(error instanceof ExpressionError)) throw error
      return null
    }
  }
}

/** engine/definition.computed_order: computed fields after the computed fields they read. */
function computedOrder(fields: FieldInfo[]): FieldInfo[] {
  const computed = new Map(fields.filter((f) => f.annotations['x-type'] === 'computed').map((f) => [f.name, f]))
  const ordered: FieldInfo[] = []
  const seen = new Set<string>()
  const visit = (name: string) => {
    if (seen.has(name)) return
    seen.add(name)
    const field = computed.get(name)!
    const source = text(field.annotations, 'x-expression')
    let roots: ReadonlySet<string> = new Set()
    try {
      if (source !== null) roots = compile(source).fieldRoots
    } catch {
      // an expression that does not parse has no dependencies (and no value)
    }
    for (const dependency of roots) if (computed.has(dependency)) visit(dependency)
    ordered.push(field)
  }
  for (const name of computed.keys()) visit(name)
  return ordered
}

/** engine._missing: `required` means "has a value"; "" and [] are no more a value than null. */
function missing(value: unknown): boolean {
  return value === null || value === undefined || value === '' || (isList(value) && value.length === 0)
}

/** The engine drops null values (a null in the data clears the field). */
function present(data: Mapping): Mapping {
  const merged: Mapping = {}
  for (const [key, value] of Object.entries(data)) if (value !== null && value !== undefined) merged[key] = value
  return merged
}

/**
 * Which fields are hidden, required and read-only, and what the computed fields are, for `data`
 * (the form's current values) under `variables` ($user, $now, $today).
 */
export function conditions(
  schema: Schema,
  data: Mapping,
  variables: Mapping = {},
  options: ConditionOptions = {},
): ConditionResult {
  const run = new Run()
  const fields = fieldsOf(schema)
  const previous = options.previous ?? null
  const merged = present(data)
  if (previous === null) {
    for (const field of fields) {
      const fallback = field.annotations.default
      if (!(field.name in merged) && fallback !== undefined && fallback !== null && !isComputedByServer(field)) merged[field.name] = fallback
    }
  }

  // Conditions see computed values as of this input.
  const preview: Mapping = { ...merged }
  const order = computedOrder(fields)
  applyComputed(run, order, preview, variables, false)
  const context: Mapping = { ...preview, ...variables }
  const before: Mapping = { ...(previous ?? {}), ...variables }
  // What is stored: server-set values, then every visible field's value; computed again from those.
  const out: Mapping = {}
  for (const field of fields) if (isComputedByServer(field) && field.name in merged) out[field.name] = merged[field.name]

  for (const field of fields) {
    if (isComputedByServer(field)) continue
    if (!run.condition(field, field.name, 'x-visible-if', context, true)) {
      run.result.hidden.add(field.name)
      continue // hidden fields keep no value and are never required
    }
    if (previous !== null && (field.annotations['x-read-only'] === true || run.condition(field, field.name, 'x-readonly-if', before, false)))
      run.result.readonly.add(field.name)
    const required = field.required || run.condition(field, field.name, 'x-required-if', context, false)
    if (required) run.result.required.add(field.name)
    if (field.name in merged && !(required && missing(merged[field.name]))) {
      const value = merged[field.name]
      // Stored rows carry their computed values, which the record's computed fields may read.
      out[field.name] = field.annotations['x-type'] === 'subtable' ? rows(run, field, value, context, before, previous) : value
    }
  }
  applyComputed(run, order, out, variables, true)
  return run.result
}

function applyComputed(run: Run, order: FieldInfo[], data: Mapping, variables: Mapping, record: boolean): void {
  for (const field of order) {
    const value = run.computedValue(field, field.name, { ...data, ...variables })
    if (value === null) delete data[field.name]
    else data[field.name] = value
    if (record) run.result.computed[field.name] = value
  }
}

function rows(run: Run, field: FieldInfo, value: unknown, parent: Mapping, before: Mapping, previous: Mapping | null): unknown {
  if (!isList(value) || !isMapping(field.schema.items)) return value
  const stored: Mapping[] = []
  const rowFields = fieldsOf(field.schema.items)
  const names = new Set(rowFields.map((rf) => rf.name))
  const oldRows = previous !== null && isList(previous[field.name]) ? (previous[field.name] as unknown[]) : []
  value.forEach((row, i) => {
    if (!isMapping(row)) return // the engine refuses the record ("must be an object")
    const prefix = `${field.name}[${i}]`
    const clean: Mapping = {}
    for (const [key, v] of Object.entries(row)) if (names.has(key) && v !== null && v !== undefined) clean[key] = v
    for (const rf of rowFields) {
      const fallback = rf.annotations.default
      if (!(rf.name in clean) && fallback !== undefined && fallback !== null && !isComputedByServer(rf)) clean[rf.name] = fallback
    }
    const context: Mapping = { ...parent, ...clean }
    for (const rf of rowFields) {
      if (rf.annotations['x-type'] === 'computed') context[rf.name] = run.computedValue(rf, `${prefix}.${rf.name}`, context)
    }
    const old = i < oldRows.length && isMapping(oldRows[i]) ? (oldRows[i] as Mapping) : null
    const outRow: Mapping = {}
    for (const rf of rowFields) {
      if (isComputedByServer(rf)) continue
      const path = `${prefix}.${rf.name}`
      if (!run.condition(rf, path, 'x-visible-if', context, true)) {
        run.result.hidden.add(path)
        continue
      }
      if (old !== null && (rf.annotations['x-read-only'] === true || run.condition(rf, path, 'x-readonly-if', { ...before, ...old }, false)))
        run.result.readonly.add(path)
      const required = rf.required || run.condition(rf, path, 'x-required-if', context, false)
      if (required) run.result.required.add(path)
      if (rf.name in clean && !(required && missing(clean[rf.name]))) outRow[rf.name] = clean[rf.name]
    }
    // Stored row computed values are computed from the row's kept (visible) values.
    for (const rf of rowFields) {
      if (rf.annotations['x-type'] !== 'computed') continue
      const computed = run.computedValue(rf, `${prefix}.${rf.name}`, { ...parent, ...outRow })
      run.result.computed[`${prefix}.${rf.name}`] = computed
      outRow[rf.name] = computed
    }
    stored.push(outRow)
  })
  return stored
}
