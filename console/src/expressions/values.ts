/**
 * The value model shared by the evaluator and the functions (chalicelib/expressions/values.py).
 *
 * Values are JSON-like: null, boolean, Decimal, string, arrays and plain objects. Context data is
 * converted lazily, one value at a time, as the expression reads it (JS numbers and bigints become
 * Decimal), so a large record costs nothing unless the expression walks it. Objects are only ever
 * read through their own properties, so `a.constructor` or `a['__proto__']` are simply missing.
 */
import * as D from './decimal'
import { Decimal, DecimalInvalid, DecimalOverflow } from './decimal'
import { ExpressionError, ExpressionLimitExceeded } from './errors'
import { MAX_LIST_LENGTH, MAX_STRING_LENGTH, MAX_VALUE_NESTING, NUMBER_MAX_EXPONENT } from './limits'

export type Mapping = Record<string, unknown>
export type Value = null | boolean | Decimal | string | readonly unknown[] | Mapping

const MAX_INT_BITS = 4_000 // ~1,200 digits: far past Emax, so refuse before the costly conversion

/** A Decimal inside the language's precision and exponent range (values.py number()). */
export function number(value: string | bigint | Decimal): Decimal {
  try {
    const exact =
      value instanceof Decimal ? value : typeof value === 'bigint' ? Decimal.fromBigInt(value) : Decimal.parse(value)
    return D.create(exact)
  } catch (error) {
    if (error instanceof DecimalOverflow)
      throw new ExpressionLimitExceeded(`number out of range (more than 1e${NUMBER_MAX_EXPONENT})`)
    if (error instanceof DecimalInvalid) throw new ExpressionError(`not a number: '${String(value).slice(0, 40)}'`)
    throw error
  }
}

export function isMapping(value: unknown): value is Mapping {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

export function isList(value: unknown): value is readonly unknown[] {
  return Array.isArray(value)
}

/** `mapping.get(name)`: own properties only, never the prototype chain. */
export function getKey(mapping: Mapping, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(mapping, key) ? mapping[key] : undefined
}

export function hasKey(mapping: Mapping, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(mapping, key)
}

export function keyCount(mapping: Mapping): number {
  return Object.keys(mapping).length
}

function bitLength(n: bigint): number {
  return (n < 0n ? -n : n).toString(2).length
}

/** Normalise one value read from the context (not its children: those convert on access). */
export function fromContext(value: unknown): Value {
  if (value === null || value === undefined) return null
  if (typeof value === 'string' || typeof value === 'boolean') return value
  if (value instanceof Decimal) return number(value)
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return null // NaN/Infinity act like a blank, as on the server
    // A whole JSON number is an int on the server (Decimal('2'), not '2.0'); others use the
    // shortest round-trip digits, which is what Python's repr(float) gives too.
    return number(Number.isSafeInteger(value) ? BigInt(value) : String(value))
  }
  if (typeof value === 'bigint') {
    if (bitLength(value) > MAX_INT_BITS)
      throw new ExpressionLimitExceeded(`number out of range (more than 1e${NUMBER_MAX_EXPONENT})`)
    return number(value)
  }
  if (Array.isArray(value) || isMapping(value)) return value as Value
  if (value instanceof Set) {
    const items = [...value]
    if (items.every((item) => typeof item === 'string')) return (items as string[]).sort(compareStrings)
    return items
  }
  if (value instanceof Date) return formatDate(value)
  throw new ExpressionError(`unsupported value of type ${typeof value} in the record`)
}

/** A JS Date as the server writes an aware UTC datetime: 2024-03-01T08:00:00Z (micros when present). */
function formatDate(value: Date): string {
  if (Number.isNaN(value.getTime())) throw new ExpressionError('unsupported value of type Date in the record')
  const iso = value.toISOString() // YYYY-MM-DDTHH:MM:SS.mmmZ
  const millis = iso.slice(20, 23)
  return iso.slice(0, 19) + (millis === '000' ? '' : `.${millis}000`) + 'Z'
}

export function typeName(value: unknown): string {
  if (value === null || value === undefined) return 'null'
  if (typeof value === 'boolean') return 'boolean'
  if (value instanceof Decimal || typeof value === 'number' || typeof value === 'bigint') return 'number'
  if (typeof value === 'string') return 'string'
  if (Array.isArray(value)) return 'list'
  if (isMapping(value)) return 'object'
  return typeof value
}

export function isNumber(value: unknown): value is Decimal {
  return value instanceof Decimal
}

const SURROGATE = /[\uD800-\uDFFF]/

/** Length in code points, as Python's len(str). */
export function stringLength(text: string): number {
  if (!SURROGATE.test(text)) return text.length
  let count = 0
  for (const _ of text) count++
  return count
}

/** Python's string ordering: by code point (JS `<` compares UTF-16 units, which differs past U+FFFF). */
export function compareStrings(a: string, b: string): number {
  if (!SURROGATE.test(a) && !SURROGATE.test(b)) return a < b ? -1 : a > b ? 1 : 0
  const x = [...a]
  const y = [...b]
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const p = x[i].codePointAt(0)!
    const q = y[i].codePointAt(0)!
    if (p !== q) return p < q ? -1 : 1
  }
  return x.length === y.length ? 0 : x.length < y.length ? -1 : 1
}

export function truthy(value: unknown): boolean {
  if (value === null || value === undefined || value === false) return false
  if (value instanceof Decimal) return !value.isZero()
  if (typeof value === 'string' || Array.isArray(value)) return value.length > 0
  if (isMapping(value)) return keyCount(value) > 0
  return true
}

export type Charge = (steps: number) => void

/** Equality by value; numbers numerically; booleans never equal numbers. */
export function valuesEqual(leftRaw: unknown, rightRaw: unknown, charge: Charge, depth = 0): boolean {
  if (depth > MAX_VALUE_NESTING) throw new ExpressionLimitExceeded(`values nested deeper than ${MAX_VALUE_NESTING} levels`)
  const left = fromContext(leftRaw)
  const right = fromContext(rightRaw)
  if (left === null || right === null) return left === null && right === null
  if (typeof left === 'boolean' || typeof right === 'boolean') return left === right
  if (left instanceof Decimal && right instanceof Decimal) return D.compare(left, right) === 0
  if (typeof left === 'string' && typeof right === 'string') return left === right
  if (isList(left) && isList(right)) {
    if (left.length !== right.length) return false
    charge(left.length)
    return left.every((item, i) => valuesEqual(item, right[i], charge, depth + 1))
  }
  if (isMapping(left) && isMapping(right)) {
    const keys = Object.keys(left)
    if (keys.length !== keyCount(right)) return false
    charge(keys.length)
    return keys.every((key) => hasKey(right, key) && valuesEqual(left[key], right[key], charge, depth + 1))
  }
  return false
}

/** Shared by the `in` operator and contains(): list membership, substring, or object key. */
export function containsItem(items: unknown, needle: unknown, charge: Charge): boolean {
  if (items === null || items === undefined) return false
  if (isList(items)) {
    charge(items.length)
    return items.some((item) => valuesEqual(item, needle, charge))
  }
  if (typeof items === 'string' || isMapping(items)) {
    if (needle === null) return false
    if (typeof needle === 'string') return typeof items === 'string' ? items.includes(needle) : hasKey(items, needle)
  }
  throw new ExpressionError(`cannot look for a ${typeName(needle)} in a ${typeName(items)}`)
}

export function checkStringLength(length: number): void {
  if (length > MAX_STRING_LENGTH) throw new ExpressionLimitExceeded(`string longer than ${MAX_STRING_LENGTH} characters`)
}

export function checkString(value: string): string {
  checkStringLength(stringLength(value))
  return value
}

export function checkListLength(length: number): void {
  if (length > MAX_LIST_LENGTH) throw new ExpressionLimitExceeded(`list longer than ${MAX_LIST_LENGTH} items`)
}

export function checkList<T>(value: T[]): T[] {
  checkListLength(value.length)
  return value
}

export function formatNumber(value: Decimal): string {
  return value.toFixed()
}

/** The string form used by concat() and to_string(); null is the empty string. */
export function toText(raw: unknown): string {
  const value = fromContext(raw)
  if (value === null) return ''
  if (typeof value === 'boolean') return value ? 'true' : 'false'
  if (value instanceof Decimal) return formatNumber(value)
  if (typeof value === 'string') return value
  throw new ExpressionError(`cannot convert a ${typeName(value)} to a string`)
}
