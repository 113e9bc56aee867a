/**
 * conditions() on a form schema written by the server (repair_schema.json: form_json_schema() of a
 * small repair form; the engine's verdicts on the same data, noted below, come from validate_record).
 */
import { describe, expect, it } from 'vitest'
import schema from './repair_schema.json'
import { conditions, Decimal, toPlain } from './index'

const user = { $user: { id: 'u1', roles: ['tech'] } }
const sorted = (set: Set<string>) => [...set].sort()

describe('conditions', () => {
  it('hides, requires and computes like the engine on create', () => {
    // engine: contract_no (hidden) is dropped, notes "is required" because total 225.5 > 100.
    const data = { kind: 'paid', hours: 2.5, contract_no: 'C-1', parts: [{ sku: 'A', qty: 2, price: 10 }, { sku: 'B', qty: 1, price: 5.5 }] }
    const result = conditions(schema, data, user)
    expect(sorted(result.hidden)).toEqual(['bad', 'contract_no'])
    expect(sorted(result.required)).toEqual(['kind', 'notes', 'parts[0].sku', 'parts[1].sku'])
    expect(result.readonly.size).toBe(0) // read-only rules guard edits only
    expect(toPlain(result.computed)).toEqual({ labour: 200, total: 225.5, 'parts[0].line_total': 20, 'parts[1].line_total': 5.5 })
    expect(result.computed.labour).toBeInstanceOf(Decimal) // the default rate 80 applied on create
    expect(result.undetermined.size).toBe(0)
  })

  it('keeps no value for hidden fields: what is computed from them is unknown', () => {
    // engine: rate is hidden for warranty work, so the stored labour (hours * rate) and total are null,
    // and contract_no "is required"; the row's price is hidden too.
    const result = conditions(schema, { kind: 'warranty', hours: 1, rate: 50, parts: [{ sku: 'A', qty: 2, price: 10 }] }, user)
    expect(sorted(result.hidden)).toEqual(['bad', 'parts[0].price', 'rate'])
    expect(sorted(result.required)).toEqual(['contract_no', 'kind', 'parts[0].sku'])
    expect(result.computed).toEqual({ labour: null, total: null, 'parts[0].line_total': null })
  })

  it('counts a condition that errors as false', () => {
    // `hours / 0 > 1` is a division by zero: not visible; with no hours it is null > 1: false too.
    expect(conditions(schema, { kind: 'paid', hours: 3 }).hidden.has('bad')).toBe(true)
    expect(conditions(schema, { kind: 'paid' }).hidden.has('bad')).toBe(true)
  })

  it('applies read-only rules to edits, on the record as stored', () => {
    // engine: changing notes of a warranty repair "is read-only"; serial is immutable after create.
    const previous = { kind: 'warranty', contract_no: 'K', hours: 1, serial: 'S1' }
    const edit = conditions(schema, { ...previous, kind: 'paid', notes: 'changed' }, user, { previous })
    expect(sorted(edit.readonly)).toEqual(['notes', 'serial'])
    const paid = { kind: 'paid', hours: 1, rate: 80, serial: 'S1' }
    expect(sorted(conditions(schema, paid, user, { previous: paid }).readonly)).toEqual(['serial'])
  })

  it('leaves to the server what only the server can decide', () => {
    const withSignature = {
      type: 'object',
      properties: {
        sig: { 'x-type': 'signature' },
        approved: { 'x-type': 'checkbox', 'x-visible-if': 'signature_valid(sig)' },
        secret_based: { 'x-type': 'text', 'x-server-condition': true },
      },
    }
    const sig = { key: 'k', signed_sha256: 'a', signed_mac: 'b', signed_at: 't', signed_by: 'u', signed_fields: ['approved'] }
    const result = conditions(withSignature, { sig })
    expect(sorted(result.undetermined)).toEqual(['approved', 'secret_based'])
    expect(result.hidden.has('approved')).toBe(false) // the rule's default until the server says otherwise
    expect(conditions(withSignature, { sig: 'not a signature' }).hidden.has('approved')).toBe(true)
  })
})
