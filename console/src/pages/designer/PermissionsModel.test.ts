import { describe, expect, it } from 'vitest'
import {
  applyChange, cellKey, rebase, changesOf, describeChange, fieldKey, fieldList, grantOf, hasGrant, problemsByTarget, rolesOf, rowKey,
  rowRule, setFieldFlag, setGrant, setRowRule, stillSeen, targetOf, toSave,
} from './PermissionsModel'

const customer = {
  name: 'customer',
  title: 'Customer',
  translations: { 'zh-CN': { title: '客户' } },
  fields: [{ name: 'name', type: 'text' }, { name: 'phone', type: 'phone' }, { name: 'email', type: 'email' }],
  indexes: ['phone'],
  permissions: { create: ['agent', 'supervisor'], read: ['*'], update: ['agent', 'supervisor'], delete: ['admin'] },
}

describe('definition ↔ grid', () => {
  it('reads grants, with the server default (admins only) for an action left out', () => {
    expect(grantOf(customer, 'update')).toEqual(['agent', 'supervisor'])
    expect(grantOf(customer, 'export')).toEqual(['admin'])
    expect(grantOf({ name: 'x' }, 'read')).toEqual(['admin'])
    expect(hasGrant(customer, 'read', '*')).toBe(true)
    expect(hasGrant(customer, 'delete', 'engineer')).toBe(false)
    expect(hasGrant(customer, 'share', 'admin')).toBe(true) // admins may always
  })

  it('grants and revokes one role, touching nothing else of the definition', () => {
    const granted = setGrant(customer, 'update', 'manager', true)
    expect(granted.permissions.update).toEqual(['agent', 'supervisor', 'manager'])
    expect(granted.permissions.create).toBe(customer.permissions.create)
    expect(granted.fields).toBe(customer.fields)
    expect(granted.translations).toBe(customer.translations)
    expect(customer.permissions.update).toEqual(['agent', 'supervisor']) // not mutated
    expect(setGrant(customer, 'update', 'agent', true)).toBe(customer) // already there
    expect(setGrant(granted, 'update', 'manager', false).permissions.update).toEqual(['agent', 'supervisor'])
    // an action the definition leaves out starts from its default
    expect(setGrant(customer, 'export', 'manager', true).permissions.export).toEqual(['admin', 'manager'])
    expect(Object.keys(setGrant(customer, 'export', 'manager', true))).toEqual(Object.keys(customer))
  })

  it('sets and clears field grants and row rules', () => {
    let d = setFieldFlag(customer, 'engineer', 'hidden', 'phone', true)
    expect(d.permissions.fields).toEqual({ engineer: { hidden: ['phone'] } })
    d = setFieldFlag(d, 'engineer', 'readonly', 'email', true)
    expect(fieldList(d, 'engineer', 'readonly')).toEqual(['email'])
    d = setFieldFlag(setFieldFlag(d, 'engineer', 'hidden', 'phone', false), 'engineer', 'readonly', 'email', false)
    expect(d.permissions.fields).toEqual({})
    d = setRowRule(customer, 'manager', "region == 'north'")
    expect(rowRule(d, 'manager')).toBe("region == 'north'")
    expect(d.permissions.rows).toEqual({ manager: "region == 'north'" })
    expect('rows' in setRowRule(customer, 'manager', '  ').permissions).toBe(false)
    expect(setRowRule(d, 'manager', '').permissions.rows).toEqual({})
  })

  it('tells when a field hidden from a role is still seen through every member (*)', () => {
    const hidden = setFieldFlag(customer, 'engineer', 'hidden', 'email', true)
    expect(stillSeen(hidden, 'engineer')).toEqual(['email']) // read: ['*']
    expect(stillSeen(setFieldFlag(hidden, '*', 'hidden', 'email', true), 'engineer')).toEqual([])
    const explicit = setGrant(setGrant(hidden, 'read', '*', false), 'read', 'engineer', true)
    expect(stillSeen(explicit, 'engineer')).toEqual([])
    expect(stillSeen(hidden, '*')).toEqual([])
  })

  it('saves the loaded definition with the draft permissions only', () => {
    const draft = setGrant({ ...customer, title: 'changed elsewhere' }, 'delete', 'manager', true)
    const saved = toSave(customer, draft)
    expect(saved.title).toBe('Customer')
    expect(saved.permissions.delete).toEqual(['admin', 'manager'])
    expect(Object.keys(saved)).toEqual(Object.keys(customer))
  })

  it('offers every role named anywhere, * first, admin left out', () => {
    const wo = { name: 'work_order', fields: [], permissions: { read: ['engineer'], rows: { engineer: 'x' }, fields: { customer_portal: { hidden: [] } } } }
    expect(rolesOf([customer, wo], ['manager', 'admin'])).toEqual(['*', 'agent', 'customer_portal', 'engineer', 'manager', 'supervisor'])
  })
})

describe('the summary before saving', () => {
  it('says what each change does', () => {
    let d = setGrant(customer, 'update', 'manager', true)
    d = setGrant(d, 'create', 'supervisor', false)
    d = setFieldFlag(d, 'engineer', 'hidden', 'email', true)
    d = setRowRule(d, 'manager', "region == 'north'")
    const changes = changesOf('customer', customer, d)
    expect(changes.map(describeChange)).toEqual([
      'supervisor may no longer create customer',
      'manager may now update customer',
      'customer.email is now hidden from engineer',
      "manager sees only customer records where region == 'north'",
    ])
    expect(changesOf('customer', customer, setGrant(setGrant(customer, 'read', 'x', true), 'read', 'x', false))).toEqual([])
    const ruled = setRowRule(customer, 'engineer', 'a')
    expect(changesOf('customer', ruled, setRowRule(ruled, 'engineer', 'b')).map(describeChange)).toEqual(['engineer sees only customer records where b (was a)'])
    expect(changesOf('customer', ruled, setRowRule(ruled, 'engineer', '')).map(describeChange)).toEqual(['engineer sees every customer record (no row rule)'])
    expect(describeChange({ kind: 'grant', form: 'customer', role: '*', action: 'delete' })).toBe('every member may now delete customer')
  })
})

describe('a version published meanwhile', () => {
  it('gets the same changes, keeping what it changed itself', () => {
    let d = setGrant(customer, 'update', 'manager', true)
    d = setFieldFlag(d, 'engineer', 'hidden', 'email', true)
    d = setRowRule(d, 'manager', "region == 'north'")
    const changes = changesOf('customer', customer, d)
    const latest = { ...customer, fields: [...customer.fields, { name: 'vip', type: 'checkbox' }],
      permissions: { ...customer.permissions, delete: ['admin', 'supervisor'], rows: { agent: 'true' } } }
    const rebased = rebase(latest, changes)
    expect(rebased.fields).toBe(latest.fields)
    expect(rebased.permissions.delete).toEqual(['admin', 'supervisor'])
    expect(rebased.permissions.update).toEqual(['agent', 'supervisor', 'manager'])
    expect(rebased.permissions.rows).toEqual({ agent: 'true', manager: "region == 'north'" })
    expect(rebased.permissions.fields).toEqual({ engineer: { hidden: ['email'] } })
    expect(changesOf('customer', latest, rebased)).toEqual(changes)
    expect(applyChange(rebased, { kind: 'ruleRemoved', form: 'customer', role: 'agent', rule: '', before: 'true' }).permissions.rows)
      .toEqual({ manager: "region == 'north'" })
  })
})

describe('a check problem, at the cell it concerns', () => {
  const draft = setFieldFlag(setGrant(customer, 'update', 'bad role', true), 'engineer', 'hidden', 'nope', true)
  it('maps JSON paths to cells, rules and field grants', () => {
    expect(targetOf(draft, 'permissions.update[2]')).toEqual({ kind: 'action', action: 'update', role: 'bad role' })
    expect(targetOf(draft, 'permissions.import[0]')).toEqual({ kind: 'action', action: 'import', role: 'admin' })
    expect(targetOf(draft, 'permissions.rows.engineer')).toEqual({ kind: 'row', role: 'engineer' })
    expect(targetOf(draft, 'permissions.rows.*')).toEqual({ kind: 'row', role: '*' })
    expect(targetOf(draft, 'permissions.fields.engineer.hidden[0]')).toEqual({ kind: 'field', role: 'engineer', list: 'hidden', field: 'nope' })
    expect(targetOf(draft, 'fields[3].name')).toEqual({ kind: 'form' })
  })
  it('groups problems by cell; list-wide ones also on the form', () => {
    const grouped = problemsByTarget(draft, [
      { path: 'permissions.update[2]', message: 'role names are letters' },
      { path: 'permissions.rows.engineer', message: "unknown field 'regoin'" },
      { path: 'permissions.fields.engineer.hidden[0]', message: "unknown field 'nope'" },
      { path: 'permissions.read', message: 'bad list' },
      { path: '', message: 'whole' },
    ])
    expect(grouped[cellKey('update', 'bad role')]).toEqual(['role names are letters'])
    expect(grouped[rowKey('engineer')]).toEqual(["unknown field 'regoin'"])
    expect(grouped[fieldKey('engineer', 'hidden', 'nope')]).toEqual(["unknown field 'nope'"])
    expect(grouped.form).toEqual(['permissions.read: bad list', 'whole'])
  })
})
