/**
 * The allow-list of functions an expression may call (chalicelib/expressions/functions.py): the same
 * names, argument counts, null handling and errors. Each implementation receives the runtime (step
 * charging, context variables) followed by its evaluated arguments - or, for lazy functions (if,
 * coalesce), thunks that evaluate an argument on demand.
 */
import * as dates from './dates'
import * as D from './decimal'
import { Decimal, powerOfTen } from './decimal'
import { ExpressionError, ExpressionLimitExceeded, ServerOnlyExpression } from './errors'
import { MATCH_WORK_PER_STEP, MAX_NUMBER_LITERAL_LENGTH, MAX_STRING_LENGTH, STRING_WORK_PER_STEP } from './limits'
import { compilePattern } from './patterns'
import {
  checkString,
  checkStringLength,
  compareStrings,
  containsItem,
  fromContext,
  isList,
  isMapping,
  isNumber,
  keyCount,
  number,
  stringLength,
  toText,
  truthy,
  typeName,
  type Value,
} from './values'

export interface Runtime {
  charge(steps: number): void
  variable(name: string): Value
}

type Implementation = (rt: Runtime, ...args: any[]) => Value // eslint-disable-line @typescript-eslint/no-explicit-any

export class FunctionSpec {
  constructor(
    readonly name: string,
    readonly implementation: Implementation,
    readonly minArgs: number,
    readonly maxArgs: number | null, // null: any number from minArgs up
    readonly lazy = false, // arguments arrive as thunks
    readonly literalChecks: Record<number, (value: unknown) => unknown> = {}, // run at parse time
  ) {}

  arityProblem(count: number): string | null {
    if (this.minArgs <= count && (this.maxArgs === null || count <= this.maxArgs)) return null
    let expected: string
    if (this.maxArgs === null) expected = `at least ${this.minArgs}`
    else if (this.minArgs === this.maxArgs) expected = String(this.minArgs)
    else expected = `${this.minArgs} to ${this.maxArgs}`
    const plural = expected === '1' || expected === 'at least 1' ? '' : 's'
    return `${this.name}() takes ${expected} argument${plural}, got ${count}`
  }
}

export const FUNCTIONS: Record<string, FunctionSpec> = Object.create(null)

function define(
  name: string,
  minArgs: number,
  maxArgs: number | null | undefined,
  implementation: Implementation,
  options: { lazy?: boolean; literalChecks?: Record<number, (value: unknown) => unknown> } = {},
): void {
  FUNCTIONS[name] = new FunctionSpec(name, implementation, minArgs, maxArgs === undefined ? minArgs : maxArgs, options.lazy, options.literalChecks)
}

function expect<T>(fn: string, value: unknown, kind: string): T {
  if (typeName(value) !== kind) throw new ExpressionError(`${fn}() expects a ${kind}, got ${typeName(value)}`)
  return value as T
}

/** Elements of a list argument, converted, with the per-element work charged up front. */
function items(fn: string, rt: Runtime, value: unknown): Value[] {
  if (value === null || value === undefined) return []
  const list = expect<readonly unknown[]>(fn, value, 'list')
  rt.charge(list.length)
  return list.map(fromContext)
}

function numbers(fn: string, rt: Runtime, value: unknown): Decimal[] {
  const found = items(fn, rt, value).filter((item) => item !== null)
  for (const item of found) expect(fn, item, 'number')
  return found as Decimal[]
}

// Python's str.isspace() set, which str.strip() removes (JS trim() differs: it strips U+FEFF, keeps U+001C-U+001F, U+0085).
const PY_SPACE = /^[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+|[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/g
export const pyStrip = (text: string) => text.replace(PY_SPACE, '')

function stringFunction(name: string, transform: (text: string) => string): void {
  define(name, 1, undefined, (_rt, value: unknown) => (value === null ? null : checkString(transform(expect<string>(name, value, 'string')))))
}

function numberFunction(name: string, transform: (n: Decimal) => Decimal): void {
  define(name, 1, undefined, (_rt, value: unknown) => (value === null ? null : transform(expect<Decimal>(name, value, 'number'))))
}

stringFunction('lower', (text) => text.toLowerCase())
stringFunction('upper', (text) => text.toUpperCase())
stringFunction('trim', pyStrip)
numberFunction('abs', D.abs)
numberFunction('floor', (n) => D.toIntegralValue(n, 'floor'))
numberFunction('ceil', (n) => D.toIntegralValue(n, 'ceiling'))

define('len', 1, undefined, (_rt, value: unknown) => {
  if (value === null) return Decimal.fromInt(0)
  if (typeof value === 'string') return Decimal.fromInt(stringLength(value))
  if (isList(value)) return Decimal.fromInt(value.length)
  if (isMapping(value)) return Decimal.fromInt(keyCount(value))
  throw new ExpressionError(`len() expects a string, list or object, got ${typeName(value)}`)
})

define('contains', 2, undefined, (rt, haystack: unknown, needle: unknown) => containsItem(haystack, needle, (n) => rt.charge(n)))

function affixFunction(name: string, test: (text: string, affix: string) => boolean): void {
  define(name, 2, undefined, (_rt, text: unknown, affix: unknown) => {
    if (text === null || affix === null) return false
    return test(expect<string>(name, text, 'string'), expect<string>(name, affix, 'string'))
  })
}

affixFunction('starts_with', (text, affix) => text.startsWith(affix))
affixFunction('ends_with', (text, affix) => text.endsWith(affix))

/** A whole-number argument (a position, length or width), clamped to just past any string's size. */
function whole(fn: string, what: string, value: unknown): number {
  if (!isNumber(value)) throw new ExpressionError(`${fn}() ${what} must be a whole number, got ${typeName(value)}`)
  if (!value.isInteger()) throw new ExpressionError(`${fn}() ${what} must be a whole number`)
  const bound = Decimal.fromInt(MAX_STRING_LENGTH + 1)
  if (D.compare(value, bound) > 0) return MAX_STRING_LENGTH + 1
  if (D.compare(value, D.minus(bound)) < 0) return -MAX_STRING_LENGTH - 1
  return Number(D.toIntegralValue(value, 'down').toFixed())
}

/** Work proportional to the characters a string function builds (limits STRING_WORK_PER_STEP). */
const chargeText = (rt: Runtime, length: number) => rt.charge(Math.floor(length / STRING_WORK_PER_STEP))

/** Code points, as Python indexes a str. */
const codePoints = (text: string) => Array.from(text)

const TO_END = Symbol('to end')

define('substring', 2, 3, (rt, text: unknown, start: unknown, length: unknown = TO_END) => {
  if (text === null || start === null || length === null) return null
  const chars = codePoints(expect<string>('substring', text, 'string'))
  let begin = whole('substring', 'start', start)
  if (begin < 0) begin = Math.max(chars.length + begin, 0)
  const end = length === TO_END ? chars.length : begin + Math.max(whole('substring', 'length', length), 0)
  const result = chars.slice(begin, end).join('')
  chargeText(rt, Math.max(0, Math.min(end, chars.length) - begin))
  return result
})

function sideFunction(name: string, fromEnd: boolean): void {
  define(name, 2, undefined, (rt, text: unknown, count: unknown) => {
    if (text === null || count === null) return null
    const chars = codePoints(expect<string>(name, text, 'string'))
    const size = Math.max(whole(name, 'count', count), 0)
    const kept = fromEnd ? (size < chars.length ? chars.slice(chars.length - size) : chars) : chars.slice(0, size)
    chargeText(rt, kept.length)
    return kept.join('')
  })
}

sideFunction('left', false)
sideFunction('right', true)

function padFunction(name: string, onLeft: boolean): void {
  define(name, 2, 3, (rt, text: unknown, width: unknown, fill: unknown = ' ') => {
    if (text === null || width === null || fill === null) return null
    const value = expect<string>(name, text, 'string')
    const size = whole(name, 'width', width)
    if (typeof fill !== 'string' || stringLength(fill) !== 1)
      throw new ExpressionError(`${name}() fill must be one character` + (typeof fill === 'string' ? '' : `, got ${typeName(fill)}`))
    const length = stringLength(value)
    if (size <= length) return value
    checkStringLength(size)
    chargeText(rt, size)
    const padding = fill.repeat(size - length)
    return onLeft ? padding + value : value + padding
  })
}

padFunction('pad_left', true)
padFunction('pad_right', false)

define('replace', 3, undefined, (rt, text: unknown, search: unknown, replacement: unknown) => {
  if (text === null || search === null || replacement === null) return null
  const value = expect<string>('replace', text, 'string')
  const needle = expect<string>('replace', search, 'string')
  const other = expect<string>('replace', replacement, 'string')
  if (!needle) return value
  const pieces = value.split(needle)
  const size = stringLength(value) + (pieces.length - 1) * (stringLength(other) - stringLength(needle))
  checkStringLength(size)
  chargeText(rt, size)
  return pieces.join(other)
})

define('index_of', 2, undefined, (rt, text: unknown, search: unknown) => {
  if (text === null || search === null) return null
  const value = expect<string>('index_of', text, 'string')
  const needle = expect<string>('index_of', search, 'string')
  chargeText(rt, stringLength(value))
  const at = value.indexOf(needle)
  return Decimal.fromInt(at < 0 ? -1 : stringLength(value.slice(0, at)))
})

define('concat', 1, null, (_rt, ...values: unknown[]) => {
  const parts = values.map(toText)
  checkStringLength(parts.reduce((total, part) => total + stringLength(part), 0))
  return parts.join('')
})

define(
  'coalesce',
  1,
  null,
  (_rt, ...thunks: (() => Value)[]) => {
    for (const thunk of thunks) {
      const value = thunk()
      if (value !== null) return value
    }
    return null
  },
  { lazy: true },
)

define('if', 3, undefined, (_rt, condition: () => Value, then: () => Value, otherwise: () => Value) => (truthy(condition()) ? then() : otherwise()), {
  lazy: true,
})

define('round', 1, 2, (_rt, value: unknown, places: unknown = Decimal.fromInt(0)) => {
  if (value === null || places === null) return null
  const n = expect<Decimal>('round', value, 'number')
  if (!isNumber(places) || !places.isInteger() || D.compare(D.abs(places), Decimal.fromInt(20)) > 0)
    throw new ExpressionError('round() places must be a whole number between -20 and 20')
  const exponent = -Number(D.toIntegralValue(places, 'down').toFixed())
  try {
    return D.quantize(n, powerOfTen(exponent).exp, 'half_up')
  } catch (error) {
    if (error instanceof D.DecimalInvalid || error instanceof D.DecimalOverflow)
      throw new ExpressionError('round(): the result has too many digits')
    throw error
  }
})

function extremeFunction(name: string, better: (candidate: number) => boolean): void {
  define(name, 1, null, (rt, ...values: unknown[]) => {
    const candidates = values.length === 1 && isList(values[0]) ? values[0] : values
    const present = items(name, rt, candidates).filter((item) => item !== null)
    const kinds = new Set(present.map(typeName))
    const others = (kind: string) => [...kinds].some((k) => k !== kind)
    if (others('number') && others('string'))
      throw new ExpressionError(`${name}() compares numbers or strings, got ${[...kinds].sort().join(', ')}`)
    if (!present.length) return null
    let best = present[0]
    for (const item of present.slice(1)) {
      const order = isNumber(item) ? D.compare(item, best as Decimal) : compareStrings(item as string, best as string)
      if (better(order)) best = item
    }
    return best
  })
}

extremeFunction('min', (order) => order < 0)
extremeFunction('max', (order) => order > 0)

define('sum', 1, undefined, (rt, values: unknown) => numbers('sum', rt, values).reduce(D.add, Decimal.fromInt(0)))

define('avg', 1, undefined, (rt, values: unknown) => {
  const found = numbers('avg', rt, values)
  if (!found.length) return null
  return D.divide(found.reduce((a, b) => D.add(a, b)), Decimal.fromInt(found.length))
})

define('count', 1, undefined, (rt, values: unknown) => Decimal.fromInt(items('count', rt, values).filter((item) => item !== null).length))

define('is_empty', 1, undefined, (_rt, value: unknown) => {
  if (value === null) return true
  if (typeof value === 'string' || isList(value)) return value.length === 0
  if (isMapping(value)) return keyCount(value) === 0
  return false
})

const NUMBER_TEXT = /^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$/

define('to_number', 1, undefined, (_rt, value: unknown) => {
  if (value === null || isNumber(value)) return value
  const text = pyStrip(expect<string>('to_number', value, 'string'))
  if (!text) return null
  if (stringLength(text) > MAX_NUMBER_LITERAL_LENGTH)
    throw new ExpressionLimitExceeded(`to_number(): longer than ${MAX_NUMBER_LITERAL_LENGTH} characters`)
  if (!NUMBER_TEXT.test(text)) throw new ExpressionError(`to_number(): '${text}' is not a number`)
  return number(text)
})

define('to_string', 1, undefined, (_rt, value: unknown) => checkString(toText(value)))

define(
  'matches',
  2,
  undefined,
  (rt, text: unknown, pattern: unknown) => {
    if (text === null || pattern === null) return false
    const screened = compilePattern(expect<string>('matches', pattern, 'string'))
    const subject = expect<string>('matches', text, 'string')
    // Regex work counts against the evaluation budget, so many matches cannot add up unbounded.
    const worst = screened.worstCase(stringLength(subject))
    rt.charge(Math.floor(worst / MATCH_WORK_PER_STEP))
    return screened.fullmatch(subject)
  },
  { literalChecks: { 1: compilePattern } },
)

define('today', 0, undefined, (rt) => {
  const given = rt.variable('$today')
  return given !== null ? given : dates.formatTemporal(dates.utcNow()).slice(0, 10)
})

define('now', 0, undefined, (rt) => {
  const given = rt.variable('$now')
  return given !== null ? given : dates.formatTemporal(dates.utcNow())
})

const temporal = (fn: string, value: unknown) => dates.parseTemporal(expect<string>(fn, value, 'string'), fn)

/** Date functions share one rule: any null argument gives null. */
function dateFunction(name: string, arity: number, compute: (...args: unknown[]) => Value): void {
  define(name, arity, undefined, (_rt, ...args: unknown[]) => (args.some((arg) => arg === null) ? null : compute(...args)))
}

dateFunction('date', 1, (d) => dates.formatTemporal(temporal('date', d)).slice(0, 10))
dateFunction('add_days', 2, (d, n) => {
  const start = temporal('add_days', d)
  return dates.formatTemporal(dates.addDays(start, expect<Decimal>('add_days', n, 'number')))
})
dateFunction('days_between', 2, (a, b) => dates.daysBetween(temporal('days_between', a), temporal('days_between', b)))
dateFunction('hours_between', 2, (a, b) => dates.hoursBetween(temporal('hours_between', a), temporal('hours_between', b)))
dateFunction('add_months', 2, (d, n) =>
  dates.formatTemporal(dates.addMonths(temporal('add_months', d), expect<Decimal>('add_months', n, 'number'), 'add_months')),
)
dateFunction('add_years', 2, (d, n) =>
  dates.formatTemporal(dates.addMonths(temporal('add_years', d), expect<Decimal>('add_years', n, 'number'), 'add_years', 'years')),
)
dateFunction('start_of_month', 1, (d) => dates.formatTemporal(dates.startOfMonth(temporal('start_of_month', d))))
dateFunction('end_of_month', 1, (d) => dates.formatTemporal(dates.endOfMonth(temporal('end_of_month', d))))
dateFunction('year', 1, (d) => Decimal.fromInt(dates.yearMonthDay(temporal('year', d))[0]))
dateFunction('month', 1, (d) => Decimal.fromInt(dates.yearMonthDay(temporal('month', d))[1]))
dateFunction('day', 1, (d) => Decimal.fromInt(dates.yearMonthDay(temporal('day', d))[2]))
dateFunction('weekday', 1, (d) => Decimal.fromInt(dates.isoWeekday(temporal('weekday', d))))

/** format_date(d, 'DD.MM.YYYY'): the tokens YYYY YY MM DD HH mm ss; any null argument gives null. */
define(
  'format_date',
  2,
  undefined,
  (_rt, value: unknown, pattern: unknown) => {
    if (value === null || pattern === null) return null
    const text = dates.checkFormatPattern(expect<string>('format_date', pattern, 'string')) as string
    return dates.formatPattern(temporal('format_date', value), text)
  },
  { literalChecks: { 1: dates.checkFormatPattern } },
)

/**
 * signature_valid(sig): the server checks its own seal (an HMAC with a key the browser never sees)
 * and the hash over the signed fields. What can be decided without the key is decided the same way
 * (not a signature -> false); a well-formed signature raises ServerOnlyExpression.
 */
define('signature_valid', 1, undefined, (rt, signature: unknown) => {
  if (!isMapping(signature)) return false
  const names = Object.prototype.hasOwnProperty.call(signature, 'signed_fields') ? signature.signed_fields : null
  if (!isList(names) || names.length > 50) return false
  rt.charge(1 + 10 * names.length)
  const parts = ['key', 'signed_sha256', 'signed_mac', 'signed_at', 'signed_by'].map((key) =>
    Object.prototype.hasOwnProperty.call(signature, key) ? signature[key] : undefined,
  )
  if (!parts.every((part) => typeof part === 'string')) return false
  throw new ServerOnlyExpression('signature_valid() is checked by the server only (it verifies the server’s seal)')
})
