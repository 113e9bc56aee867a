import { describe, expect, it } from 'vitest'
import i18n from '../lib/i18n'
import { adaptSchema } from './rjsf'
import validator from './validator'

// the adapted work-order-like schema RJSF draws (selects as oneOf const/title, optional fields plain)
const { schema } = adaptSchema({
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  additionalProperties: false,
  required: ['name', 'priority'],
  properties: {
    name: { type: 'string', maxLength: 5, title: 'Name', 'x-type': 'text' },
    priority: { enum: ['high', 'low'], 'x-options': [{ value: 'high', label: 'High' }, { value: 'low', label: 'Low' }], 'x-type': 'select', title: 'Priority' },
    qty: { anyOf: [{ type: 'integer', minimum: 1, maximum: 9, 'x-type': 'number' }, { type: 'null' }], title: 'Qty' },
    email: { anyOf: [{ type: 'string', format: 'email', pattern: '^[^@\\s]+@[^@\\s]+$', 'x-type': 'email' }, { type: 'null' }] },
    lines: { type: 'array', items: { type: 'object', required: ['part'], properties: { part: { type: 'string' }, n: { type: 'integer', minimum: 1 } } } },
  },
})

describe('the interpreting validator (no eval: the CSP has no unsafe-eval)', () => {
  it('passes valid data', () => {
    const result = validator.validateFormData({ name: 'ACME', priority: 'high', qty: 3, lines: [{ part: 'p', n: 2 }] }, schema)
    expect(result.errors).toEqual([])
    expect(validator.isValid(schema, { name: 'ACME', priority: 'low' }, schema)).toBe(true)
  })
  it('places each failure at its field, with the limit the schema sets, in the user language', async () => {
    await i18n.changeLanguage('en')
    const result = validator.validateFormData({ name: 'Too long a name', priority: 'medium', qty: 12, email: 'nope',
      lines: [{ n: 0 }] }, schema)
    const byField = Object.fromEntries(result.errors.map((e) => [e.property, e.message]))
    expect(byField).toEqual({
      '.name': 'At most 5 characters.', '.priority': 'Not one of the options.', '.qty': 'At most 9.',
      '.email': 'Not in the expected format.', '.lines.0.part': 'Required.', '.lines.0.n': 'At least 1.',
    })
    expect(result.errorSchema.lines?.[0]?.part?.__errors).toEqual(['Required.'])
    await i18n.changeLanguage('zh-CN')
    const zh = validator.validateFormData({ priority: 'high' }, schema)
    expect(zh.errors.map((e) => [e.property, e.message])).toEqual([['.name', '必填。']])
    await i18n.changeLanguage('en')
  })
  it('reports a field the form does not have', () => {
    const closed = { type: 'object' as const, additionalProperties: false, properties: { name: { type: 'string' as const } } }
    const result = validator.validateFormData({ name: 'A', extra: 1 }, closed)
    expect(result.errors.map((e) => e.name)).toEqual(['additionalProperties'])
  })
  it('matches select options as RJSF asks it to', () => {
    const high = schema.properties.priority.oneOf[0]
    expect(validator.isValid(high, 'high', schema)).toBe(true)
    expect(validator.isValid(high, 'low', schema)).toBe(false)
  })
  it('never changes the schema it is given', () => {
    const copy = structuredClone(schema)
    validator.validateFormData({ name: 'x' }, schema)
    expect(schema).toEqual(copy)
  })
  it('runs custom checks and error transforms as RJSF defines them', () => {
    const result = validator.validateFormData({ name: 'A', priority: 'high' }, schema,
      (data, errors) => { if (data?.name === 'A') errors.name?.addError('taken'); return errors },
      (errors) => errors)
    expect(result.errorSchema.name?.__errors).toEqual(['taken'])
  })
})
