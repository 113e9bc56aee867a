import { describe, expect, it } from 'vitest'
import { adaptSchema, changedFields, display, extraErrors } from './rjsf'

const schema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  title: 'Work order',
  type: 'object',
  required: ['customer', 'fault_description'],
  properties: {
    order_no: { readOnly: true, 'x-type': 'auto_number', title: 'Order no.' },
    channel: {
      anyOf: [{ enum: ['phone', 'web'], 'x-options': [{ value: 'phone', label: 'Phone' }, { value: 'web', label: 'Web form' }], 'x-type': 'select', title: 'Channel' }, { type: 'null' }],
      'x-options': [{ value: 'phone', label: 'Phone' }, { value: 'web', label: 'Web form' }], 'x-type': 'select', title: 'Channel',
    },
    customer: { type: 'string', 'x-reference': 'form:customer', 'x-type': 'lookup', title: 'Customer' },
    fault_description: { type: 'string', 'x-multiline': true, 'x-type': 'textarea', title: 'Fault description' },
    amount: { anyOf: [{ type: 'number', multipleOf: 0.01, 'x-type': 'money', title: 'Amount' }, { type: 'null' }], title: 'Amount' },
    photos: { anyOf: [{ type: 'array', 'x-type': 'image' }, { type: 'null' }], 'x-type': 'image' },
    total: { readOnly: true, 'x-type': 'computed', 'x-expression': 'a + b' },
  },
}

describe('adaptSchema', () => {
  const adapted = adaptSchema(schema)
  it('draws optional fields as their own input, not an anyOf chooser', () => {
    expect(adapted.schema.properties.channel.anyOf).toBeUndefined()
    expect(adapted.schema.properties.channel.oneOf).toEqual([{ const: 'phone', title: 'Phone' }, { const: 'web', title: 'Web form' }])
    expect(adapted.schema.properties.channel.type).toBe('string')
  })
  it('drops multipleOf (19.99 must pass) and server-set and attachment fields', () => {
    expect(adapted.schema.properties.amount).toEqual({ type: 'number', title: 'Amount' })
    expect(Object.keys(adapted.schema.properties)).toEqual(['channel', 'customer', 'fault_description', 'amount'])
  })
  it('draws ratings as stars', () => {
    const rated = adaptSchema({ ...schema, properties: { score: { anyOf: [{ type: 'integer', minimum: 1, maximum: 5, 'x-type': 'rating' }, { type: 'null' }] } } })
    expect(rated.uiSchema.score['ui:widget']).toBe('rating')
    expect(rated.schema.properties.score).toEqual({ type: 'integer', minimum: 1, maximum: 5 })
  })
  it('gives textareas and lookups their widgets', () => {
    expect(adapted.uiSchema.fault_description['ui:widget']).toBe('textarea')
    expect(adapted.uiSchema.customer).toEqual({ 'ui:widget': 'lookup', 'ui:options': { form: 'customer' } })
  })
  it('leaves out what a create may not set and what only field-service routes write', () => {
    const s2 = { ...schema, properties: { ...schema.properties, lines: { type: 'array', 'x-managed': true }, price: { type: 'number', 'x-creatable': false } } }
    expect(Object.keys(adaptSchema(s2).schema.properties)).not.toContain('lines')
    expect(Object.keys(adaptSchema(s2).schema.properties)).not.toContain('price')
    expect(Object.keys(adaptSchema(s2, ['price']).schema.properties)).toEqual(['price'])
  })
  it('keeps only required fields that are drawn', () => {
    expect(adapted.schema.required).toEqual(['customer', 'fault_description'])
    expect(adaptSchema(schema, ['channel']).schema.required).toBeUndefined()
  })
})

describe('server errors at their fields', () => {
  it('maps data paths, nested rows included', () => {
    expect(extraErrors([{ path: 'data.customer', message: 'is required' }, { path: 'data.parts[1].qty', message: 'too big' }, { path: 'version', message: 'x' }]))
      .toEqual({ customer: { __errors: ['is required'] }, parts: { 1: { qty: { __errors: ['too big'] } } } })
  })
})

describe('changedFields and display', () => {
  it('sends only changes', () => {
    expect(changedFields({ a: 1, b: 'x' }, { a: 1, b: 'y', c: undefined })).toEqual({ b: 'y' })
  })
  it('shows option labels and never HTML', () => {
    expect(display('web', schema.properties.channel)).toBe('Web form')
    expect(display('<b>x</b>')).toBe('<b>x</b>')
    expect(display({ lat: 1, lng: 2 })).toBe('1, 2')
    expect(display('2026-12-03T03:29:05Z', { type: 'string', format: 'date-time' })).not.toContain('T03:29') // the reader's locale, not ISO
  })
})
