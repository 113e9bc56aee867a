import { describe, expect, it } from 'vitest'
import {
  indexCandidates, indexableTypes, withIndex, withoutIndex,
  changeType, describePath, fieldTypes, FIELD_TYPES, findField, moveItem, newField, pathParts, placeProblems, positionOf,
  removeField, targetOf, textOf, toDefinition, toDraft, updateField, withKey, withText,
} from './formDraft'

import shipped from '../../../../definitions/after_sales/forms/work_order.json'

const workOrder: any = shipped

describe('draft ↔ definition', () => {
  it('round-trips a shipped form exactly, unknown keys and key order included', () => {
    const definition = { ...workOrder, x_future: { kept: true }, fields: [...workOrder.fields, { name: 'odd', type: 'text', x_new: 1 }] }
    const back = toDefinition(toDraft(definition))
    expect(back).toEqual(definition)
    expect(JSON.stringify(back)).toBe(JSON.stringify(definition))
  })

  it('carries sub-table columns as draft fields and puts them back in place', () => {
    const draft = toDraft(workOrder)
    const parts = draft.fields.find((f) => f.field.name === 'parts_used')!
    expect(parts.children?.length).toBe(workOrder.fields.find((f: any) => f.name === 'parts_used').fields.length)
    const column = parts.children![0]
    const changed = updateField(draft, column.key, (f) => ({ ...f, field: withText(f.field, 'label', 'zh-CN', '备件') }))
    const def = toDefinition(changed)
    const table = def.fields.find((f: any) => f.name === 'parts_used')
    expect(table.fields[0].translations['zh-CN'].label).toBe('备件')
    expect(Object.keys(table)).toEqual(Object.keys(workOrder.fields.find((f: any) => f.name === 'parts_used')))
    expect(findField(changed, column.key)?.parent?.key).toBe(parts.key)
  })

  it('a new definition gets its fields', () => {
    const draft = toDraft({ name: 'equipment_check', title: 'Equipment check' })
    draft.fields.push({ key: 'k', field: newField('number', []) })
    expect(toDefinition(draft)).toEqual({ name: 'equipment_check', title: 'Equipment check', fields: [{ name: 'number_1', type: 'number' }] })
  })

  it('edits texts in both languages, dropping what is emptied', () => {
    let field: any = { name: 'a', type: 'text' }
    field = withText(field, 'label', 'en', 'Serial')
    field = withText(field, 'label', 'zh-CN', '序列号')
    expect(field).toEqual({ name: 'a', type: 'text', label: 'Serial', translations: { 'zh-CN': { label: '序列号' } } })
    expect(textOf(field, 'label', 'zh-CN')).toBe('序列号')
    field = withText(withText(field, 'label', 'zh-CN', ''), 'label', 'en', '')
    expect(field).toEqual({ name: 'a', type: 'text' })
    expect(withKey({ a: 1, b: 2 }, 'a', 3)).toEqual({ a: 3, b: 2 })
    expect(Object.keys(withKey({ a: 1, b: 2 }, 'a', 3))).toEqual(['a', 'b'])
  })

  it('removes and moves fields', () => {
    const draft = toDraft(workOrder)
    const [first, second] = draft.fields
    expect(removeField(draft, first.key).fields[0].key).toBe(second.key)
    expect(moveItem([1, 2, 3], 0, 2)).toEqual([2, 3, 1])
    expect(moveItem([1, 2, 3], 0, 5)).toEqual([1, 2, 3])
  })
})

describe('new fields', () => {
  it('are named apart and carry what their type requires', () => {
    expect(newField('text', ['text_1']).name).toBe('text_2')
    expect(newField('select', []).options).toHaveLength(1)
    expect(newField('lookup', [], ['customer']).form).toBe('customer')
    expect(newField('computed', []).expression).toBeTruthy()
    expect(newField('subtable', []).fields).toHaveLength(1)
  })
})

describe('field types from the served schema', () => {
  it('falls back to the known list, and reads the discriminator when served', () => {
    expect(fieldTypes(undefined).top).toEqual(FIELD_TYPES)
    const schema = {
      properties: { fields: { items: { discriminator: { mapping: { text: '#/$defs/T', subtable: '#/$defs/S', fancy: '#/$defs/T' } } } } },
      $defs: {
        T: { properties: { name: {}, max_length: { type: 'integer' } } },
        S: { properties: { fields: { items: { discriminator: { mapping: { text: '#/$defs/T' } } } } } },
      },
    }
    const info = fieldTypes(schema)
    expect(info.top).toEqual(['text', 'subtable', 'fancy'])
    expect(info.rows).toEqual(['text'])
    expect(info.settings.text.max_length).toEqual({ type: 'integer' })
  })
})

describe('problem paths → fields', () => {
  const draft = toDraft({ title: 'x', fields: [{ name: 'a', type: 'text' }, { name: 't', type: 'subtable', fields: [{ name: 'c', type: 'computed', expression: 'y' }] }] })
  const [a, t] = draft.fields
  it('parses both spellings', () => {
    expect(pathParts('fields[1].fields[0].expression')).toEqual(['fields', 1, 'fields', 0, 'expression'])
    expect(pathParts('/fields/1/fields/0/expression')).toEqual(['fields', 1, 'fields', 0, 'expression'])
  })
  it('finds the field and its setting', () => {
    expect(targetOf('fields[0].minimum', draft)).toEqual({ key: a.key, prop: 'minimum' })
    expect(targetOf('fields[0]', draft)).toEqual({ key: a.key, prop: null })
    expect(targetOf('fields[1].fields[0].expression', draft)).toEqual({ key: t.children![0].key, prop: 'expression' })
    expect(targetOf('fields[0].options[2].value', draft)).toEqual({ key: a.key, prop: 'options' })
    expect(targetOf('title', draft)).toEqual({ key: null, prop: 'title' })
    expect(targetOf('', draft)).toEqual({ key: null, prop: null })
    expect(targetOf('fields[9].x', draft)).toEqual({ key: null, prop: 'fields' })
    expect(placeProblems([{ path: 'fields[0].pattern', message: 'bad' }], draft)[0]).toMatchObject({ key: a.key, prop: 'pattern', message: 'bad' })
  })
  it('finds a field moved since its check by its name', () => {
    const checked = { fields: [{ name: 't', fields: [{ name: 'c' }] }, { name: 'a' }] }
    expect(targetOf('fields[1].pattern', draft, checked)).toEqual({ key: a.key, prop: 'pattern' })
    expect(targetOf('fields[0].fields[0].expression', draft, checked)).toEqual({ key: t.children![0].key, prop: 'expression' })
    expect(targetOf('fields[1]', draft, { fields: [{ name: 'gone' }, { name: 'renamed' }] })).toEqual({ key: t.key, prop: null })
  })
  it('reads the position of an expression problem', () => {
    expect(positionOf("unknown field 'levle' at position 0")).toBe(0)
    expect(positionOf('unexpected end of expression at position 12')).toBe(12)
    expect(positionOf('no position')).toBeNull()
  })
  it('describes a diff path by field names', () => {
    expect(describePath('/fields/11/label', workOrder)).toBe('priority · label')
    expect(describePath('/fields/1/options/1/label', workOrder)).toBe('channel · web · label')
    expect(describePath('/title', workOrder)).toBe('title')
  })
})

describe('a field changes its type after it was placed', () => {
  // the settings of a few types, as the served schema gives them (their `properties`)
  const props = (...keys: string[]) => Object.fromEntries(['name', 'type', 'label', 'translations', 'description', 'required',
    'visible_if', 'required_if', 'readonly_if', 'default', 'unique', ...keys].map((k) => [k, {}]))
  const settings = {
    text: props('min_length', 'max_length', 'pattern'), number: props('minimum', 'maximum', 'scale'), money: props('minimum', 'maximum', 'scale', 'currency'),
    select: props('options'), multiselect: props('options', 'min_items', 'max_items'), date: props('minimum', 'maximum'),
    lookup: props('form'), subtable: props('fields', 'min_rows'), computed: props('expression', 'result'),
  }
  const rules = { visible_if: "kind == 'x'", required_if: 'qty > 1', readonly_if: '$state == "Done"' }

  it('keeps the name, labels, required and the visibility rules, in their places', () => {
    const item = { key: 'k', field: { name: 'serial', type: 'text', label: 'Serial', translations: { 'zh-CN': { label: '序列号' } }, required: true, ...rules, max_length: 20, pattern: '^[A-Z]+$' } }
    const { item: out, dropped } = changeType(item, 'number', settings)
    expect(out.key).toBe('k')
    expect(out.field).toEqual({ name: 'serial', type: 'number', label: 'Serial', translations: { 'zh-CN': { label: '序列号' } }, required: true, ...rules })
    expect(Object.keys(out.field).slice(0, 2)).toEqual(['name', 'type'])
    expect(dropped).toEqual(['max_length', 'pattern'])
    expect(item.field.type).toBe('text') // a copy
  })

  it('keeps a default and limits only between types whose values are alike', () => {
    const qty = { key: 'q', field: { name: 'qty', type: 'number', default: 2, minimum: 0, maximum: 10, scale: 0 } }
    expect(changeType(qty, 'money', settings)).toEqual({ item: { key: 'q', field: { name: 'qty', type: 'money', default: 2, minimum: 0, maximum: 10, scale: 0 } }, dropped: [] })
    expect(changeType(qty, 'date', settings).dropped).toEqual(['default', 'minimum', 'maximum', 'scale'])
    const kind = { key: 's', field: { name: 'kind', type: 'select', default: 'a', options: [{ value: 'a' }, { value: 'b' }] } }
    const many = changeType(kind, 'multiselect', settings)
    expect(many.item.field).toEqual({ name: 'kind', type: 'multiselect', options: [{ value: 'a' }, { value: 'b' }] })
    expect(many.dropped).toEqual(['default'])
    expect(changeType(kind, 'text', settings).dropped).toEqual(['default', 'options'])
  })

  it('adds what the new type needs and drops a sub-table’s columns when it stops being one', () => {
    const plain = { key: 'p', field: { name: 'site', type: 'text', label: 'Site' } }
    expect(changeType(plain, 'select', settings).item.field).toEqual({ name: 'site', type: 'select', label: 'Site', options: [{ value: 'option_1', label: 'Option 1' }] })
    expect(changeType(plain, 'lookup', settings, ['site']).item.field.form).toBe('site')
    expect(changeType(plain, 'computed', settings).item.field.expression).toBe('0')
    const table = changeType(plain, 'subtable', settings).item
    expect(table.children?.map((c) => c.field)).toEqual([{ name: 'text_1', type: 'text' }])
    expect(toDefinition({ form: {}, fields: [table] }).fields[0].fields).toEqual([{ name: 'text_1', type: 'text' }])
    const back = changeType(table, 'textarea', settings)
    expect(back.item.children).toBeUndefined()
    expect(back.dropped).toEqual(['fields'])
    expect(toDefinition({ form: {}, fields: [back.item] }).fields[0]).toEqual({ name: 'site', type: 'textarea', label: 'Site' })
  })

  it('without the served schema keeps only what every type has', () => {
    const item = { key: 'k', field: { name: 'a', type: 'text', label: 'A', required: true, unique: true, max_length: 5 } }
    expect(changeType(item, 'email', {})).toEqual({ item: { key: 'k', field: { name: 'a', type: 'email', label: 'A', required: true } }, dropped: ['unique', 'max_length'] })
    expect(changeType(item, 'text', settings).item).toBe(item)
  })
})

describe('filterable fields', () => {
  const draft = toDraft({
    name: 'f', title: 'F', indexes: ['status'],
    fields: [{ name: 'status', type: 'select' }, { name: 'notes', type: 'textarea' }, { name: 'due', type: 'date' }, { name: 'who', type: 'user' }],
  })
  it('reads the indexable types from the served schema', () => {
    expect(indexableTypes({ properties: { indexes: { 'x-indexable-types': ['date', 'select', 7] } } })).toEqual(['date', 'select'])
    expect(indexableTypes(undefined)).toEqual([])
  })
  it('offers the top-level fields of indexable types not indexed yet, and appends', () => {
    const offered = indexCandidates(draft, ['select', 'date', 'user'])
    expect(offered.map((f) => f.field.name)).toEqual(['due', 'who'])
    expect(withIndex(draft.form, 'due').indexes).toEqual(['status', 'due'])
    expect(withIndex(draft.form, 'status')).toBe(draft.form)
  })
  it('keeps a published index and drops a new one (the key too when none is left)', () => {
    const two = withIndex(draft.form, 'due')
    expect(withoutIndex(two, 'status', ['status'])).toBe(two)
    expect(withoutIndex(two, 'due', ['status']).indexes).toEqual(['status'])
    expect('indexes' in withoutIndex(draft.form, 'status', [])).toBe(false)
  })
})
