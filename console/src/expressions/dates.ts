/**
 * ISO 8601 dates and date-times for the date functions (chalicelib/expressions/dates.py), with
 * Python's datetime rules: proleptic Gregorian calendar, years 1-9999, fixed UTC offsets under 24 h,
 * microsecond resolution (kept as BigInt so nothing is lost to floating point).
 *
 * Dates are 'YYYY-MM-DD'; date-times are 'YYYY-MM-DDTHH:MM[:SS[.ffffff]]' with 'Z' or an offset
 * (a missing zone means UTC).
 */
import * as D from './decimal'
import { Decimal } from './decimal'
import { ExpressionError, ExpressionLimitExceeded } from './errors'

const DATE = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/
const DATETIME =
  /^([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]{1,9}))?)?([Zz]|[+-][0-9]{2}:?[0-9]{2})?$/
const SECONDS_PER_DAY = 86_400
const MICROS_PER_SECOND = 1_000_000n
const MICROS_PER_DAY = 86_400_000_000n
const MAX_DAYS = 3_660_000

export type Temporal =
  | { kind: 'date'; days: number } // days since 1970-01-01
  | { kind: 'datetime'; local: bigint; offset: number } // wall-clock microseconds since 1970-01-01T00:00, offset in minutes

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year
  const era = Math.floor(y / 400)
  const yoe = y - era * 400
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
}

export function civilFromDays(days: number): [number, number, number] {
  const z = days + 719468
  const era = Math.floor(z / 146097)
  const doe = z - era * 146097
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365)
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100))
  const mp = Math.floor((5 * doy + 2) / 153)
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1
  const month = mp < 10 ? mp + 3 : mp - 9
  return [yoe + era * 400 + (month <= 2 ? 1 : 0), month, day]
}

const MIN_DAY = daysFromCivil(1, 1, 1)
const MAX_DAY = daysFromCivil(9999, 12, 31)

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28
  return [4, 6, 9, 11].includes(month) ? 30 : 31
}

function validDate(year: number, month: number, day: number): boolean {
  return year >= 1 && year <= 9999 && month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month)
}

function malformed(text: string, fn: string): ExpressionError {
  const shown = Array.from(text).slice(0, 40).join('')
  return new ExpressionError(`${fn}(): '${shown}' is not an ISO date or date-time`)
}

/** A date, or a date-time with its offset; ExpressionError for anything else. */
export function parseTemporal(text: string, fn: string): Temporal {
  let m = DATE.exec(text)
  if (m) {
    const [year, month, day] = m.slice(1, 4).map(Number)
    if (!validDate(year, month, day)) throw malformed(text, fn)
    return { kind: 'date', days: daysFromCivil(year, month, day) }
  }
  m = DATETIME.exec(text)
  if (m) {
    const [year, month, day, hour, minute] = m.slice(1, 6).map(Number)
    const second = Number(m[6] ?? 0)
    const micros = BigInt((m[7] ?? '0').slice(0, 6).padEnd(6, '0'))
    if (!validDate(year, month, day) || hour > 23 || minute > 59 || second > 59) throw malformed(text, fn)
    const zone = m[8]
    let offset = 0
    if (zone !== undefined && zone !== 'Z' && zone !== 'z') {
      const digits = zone.slice(1).replace(':', '')
      const minutes = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))
      if (minutes >= 24 * 60) throw malformed(text, fn) // Python's timezone() refuses |offset| >= 24 h
      offset = zone[0] === '-' ? -minutes : minutes
    }
    const local =
      BigInt(daysFromCivil(year, month, day)) * MICROS_PER_DAY +
      BigInt(hour * 3600 + minute * 60 + second) * MICROS_PER_SECOND +
      micros
    return { kind: 'datetime', local, offset }
  }
  throw malformed(text, fn)
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0')

function formatDay(days: number): string {
  const [y, mo, d] = civilFromDays(days)
  return `${pad(y, 4)}-${pad(mo)}-${pad(d)}`
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q
}

/** The wall-clock date of a temporal (a date-time's date in its own offset). */
export function localDays(value: Temporal): number {
  return value.kind === 'date' ? value.days : Number(floorDiv(value.local, MICROS_PER_DAY))
}

/** date.isoformat(), or datetime.isoformat() with '+00:00' written as 'Z'. */
export function formatTemporal(value: Temporal): string {
  if (value.kind === 'date') return formatDay(value.days)
  const days = floorDiv(value.local, MICROS_PER_DAY)
  const ofDay = value.local - days * MICROS_PER_DAY
  const seconds = Number(ofDay / MICROS_PER_SECOND)
  const micros = Number(ofDay % MICROS_PER_SECOND)
  let text = `${formatDay(Number(days))}T${pad(Math.floor(seconds / 3600))}:${pad(Math.floor(seconds / 60) % 60)}:${pad(seconds % 60)}`
  if (micros) text += '.' + pad(micros, 6)
  if (value.offset === 0) return text + 'Z'
  const size = Math.abs(value.offset)
  return `${text}${value.offset < 0 ? '-' : '+'}${pad(Math.floor(size / 60))}:${pad(size % 60)}`
}

function utcMicros(value: Temporal): bigint {
  // Dates count as midnight UTC when mixed with date-times.
  return value.kind === 'date' ? BigInt(value.days) * MICROS_PER_DAY : value.local - BigInt(value.offset) * 60n * MICROS_PER_SECOND
}

const outOfRange = () => new ExpressionError('add_days(): the result is outside the supported date range')

export function addDays(value: Temporal, days: Decimal): Temporal {
  if (D.compare(D.abs(days), Decimal.fromInt(MAX_DAYS)) > 0)
    throw new ExpressionError(`add_days(): ${days.toString()} days is out of range`)
  if (value.kind === 'datetime') {
    const micros = D.toIntegralValue(D.multiply(days, Decimal.fromBigInt(MICROS_PER_DAY)), 'half_even')
    const delta = BigInt(micros.toFixed())
    const local = value.local + delta
    if (local < BigInt(MIN_DAY) * MICROS_PER_DAY || local >= BigInt(MAX_DAY + 1) * MICROS_PER_DAY) throw outOfRange()
    return { kind: 'datetime', local, offset: value.offset }
  }
  if (!days.isInteger()) throw new ExpressionError('add_days(): a date needs a whole number of days')
  const whole = D.toIntegralValue(days, 'down')
  const result = value.days + Number(whole.toFixed())
  if (result < MIN_DAY || result > MAX_DAY) throw outOfRange()
  return { kind: 'date', days: result }
}

function secondsBetween(start: Temporal, end: Temporal): Decimal {
  const delta = utcMicros(end) - utcMicros(start)
  const whole = floorDiv(delta, MICROS_PER_SECOND)
  const micros = delta - whole * MICROS_PER_SECOND // 0 <= micros < 1e6, like timedelta's
  const seconds = Decimal.fromBigInt(whole)
  // Only add the fraction when there is one, so whole results stay free of trailing zeros.
  return micros ? D.add(seconds, D.fix(Decimal.triple(0, micros, -6))) : seconds
}

export function daysBetween(start: Temporal, end: Temporal): Decimal {
  if (start.kind === 'date' && end.kind === 'date') return Decimal.fromInt(end.days - start.days)
  return D.divide(secondsBetween(start, end), Decimal.fromInt(SECONDS_PER_DAY))
}

export function hoursBetween(start: Temporal, end: Temporal): Decimal {
  return D.divide(secondsBetween(start, end), Decimal.fromInt(3_600))
}

export function yearMonthDay(value: Temporal): [number, number, number] {
  return civilFromDays(localDays(value))
}

/** ISO weekday: Monday 1 ... Sunday 7. */
export function isoWeekday(value: Temporal): number {
  const days = localDays(value)
  return (((days + 3) % 7) + 7) % 7 + 1
}

/** The current UTC instant without microseconds (dates.utc_now()). */
export function utcNow(): Temporal {
  const seconds = Math.floor(Date.now() / 1000)
  return { kind: 'datetime', local: BigInt(seconds) * MICROS_PER_SECOND, offset: 0 }
}

const MAX_MONTHS = 120_000 // limits.py MAX_MONTHS
export const MAX_FORMAT_PATTERN_LENGTH = 100 // limits.py MAX_FORMAT_PATTERN_LENGTH

/** Split a temporal into its wall-clock day and what is left of it (microseconds into the day). */
function dayAndTime(value: Temporal): [number, bigint] {
  if (value.kind === 'date') return [value.days, 0n]
  const days = floorDiv(value.local, MICROS_PER_DAY)
  return [Number(days), value.local - days * MICROS_PER_DAY]
}

/**
 * Calendar months later (earlier when negative), the day clamped to the target month's last day:
 * 31 Jan + 1 month is 28 (or 29) Feb. A date-time keeps its time of day and offset (dates.add_months).
 */
export function addMonths(value: Temporal, count: Decimal, fn: string, unit: 'months' | 'years' = 'months'): Temporal {
  if (!count.isInteger()) throw new ExpressionError(`${fn}(): the number of ${unit} must be a whole number`)
  const per = unit === 'years' ? 12 : 1
  if (D.compare(D.abs(count), Decimal.fromInt(MAX_MONTHS / per)) > 0)
    throw new ExpressionError(`${fn}(): ${count.toString()} ${unit} is out of range`)
  const [days, ofDay] = dayAndTime(value)
  const [year, month, day] = civilFromDays(days)
  const index = year * 12 + month - 1 + Number(D.toIntegralValue(count, 'down').toFixed()) * per
  const newYear = Math.floor(index / 12)
  const newMonth = index - newYear * 12 + 1
  if (newYear < 1 || newYear > 9999) throw new ExpressionError(`${fn}(): the result is outside the supported date range`)
  const newDays = daysFromCivil(newYear, newMonth, Math.min(day, daysInMonth(newYear, newMonth)))
  if (value.kind === 'date') return { kind: 'date', days: newDays }
  return { kind: 'datetime', local: BigInt(newDays) * MICROS_PER_DAY + ofDay, offset: value.offset }
}

/** The first day of the value's month, as a date (a date-time's month in its own offset). */
export function startOfMonth(value: Temporal): Temporal {
  const [year, month] = yearMonthDay(value)
  return { kind: 'date', days: daysFromCivil(year, month, 1) }
}

export function endOfMonth(value: Temporal): Temporal {
  const [year, month] = yearMonthDay(value)
  return { kind: 'date', days: daysFromCivil(year, month, daysInMonth(year, month)) }
}

const FORMAT_TOKENS = ['YYYY', 'YY', 'MM', 'DD', 'HH', 'mm', 'ss'] // longest first

/** Also run on a literal pattern at parse time, so an oversized one is refused when it is written. */
export function checkFormatPattern(pattern: unknown): unknown {
  if (typeof pattern === 'string' && stringLengthOf(pattern) > MAX_FORMAT_PATTERN_LENGTH)
    throw new ExpressionLimitExceeded(`format_date(): the pattern is longer than ${MAX_FORMAT_PATTERN_LENGTH} characters`)
  return pattern
}

const stringLengthOf = (text: string) => Array.from(text).length

/** The value written with the tokens YYYY YY MM DD HH mm ss, `[text]` and every other character as it is (dates.format_pattern). */
export function formatPattern(value: Temporal, pattern: string): string {
  checkFormatPattern(pattern)
  const [days, ofDay] = dayAndTime(value)
  const [year, month, day] = civilFromDays(days)
  const seconds = Number(ofDay / MICROS_PER_SECOND)
  const parts: Record<string, string> = {
    YYYY: pad(year, 4),
    YY: pad(year % 100),
    MM: pad(month),
    DD: pad(day),
    HH: pad(Math.floor(seconds / 3600)),
    mm: pad(Math.floor(seconds / 60) % 60),
    ss: pad(seconds % 60),
  }
  let out = ''
  let at = 0
  while (at < pattern.length) {
    const close = pattern[at] === '[' ? pattern.indexOf(']', at + 1) : -1
    if (close !== -1) {
      out += pattern.slice(at + 1, close) // [text] is copied as it is, brackets dropped
      at = close + 1
      continue
    }
    const token = FORMAT_TOKENS.find((t) => pattern.startsWith(t, at))
    if (token !== undefined) {
      out += parts[token]
      at += token.length
    } else {
      out += pattern[at] // a UTF-16 unit: a surrogate pair is copied in two steps, whole
      at += 1
    }
  }
  return out
}
