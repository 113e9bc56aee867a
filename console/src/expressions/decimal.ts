/**
 * Exact decimal numbers with the semantics of Python's `decimal` module as the server's expression
 * language uses it (chalicelib/expressions/values.py: NUMBER_CONTEXT = 28 significant digits,
 * exponents within ±999, ROUND_HALF_EVEN, Overflow / InvalidOperation trapped, underflow quietly
 * rounding towards zero).
 *
 * Why not decimal.js: it normalises every value (2.50 becomes 2.5) and divides to a fixed number of
 * places, while Python keeps the exponent ("quantum") of each value - `to_string(2.50)` is "2.50",
 * `1.00 / 2` is 0.50 - and the server's results depend on that. So this is a direct port of the
 * CPython `_pydecimal` algorithms (sign, coefficient digits, exponent; BigInt arithmetic) for exactly
 * the operations the language needs: add, subtract, multiply, divide, remainder, minus, abs,
 * quantize, to_integral_value, compare and format(value, "f").
 */

export const PRECISION = 28
export const EMAX = 999
export const EMIN = -999
const ETINY = EMIN - PRECISION + 1 // -1026: smallest exponent of a subnormal
const ETOP = EMAX - PRECISION + 1 // 972

export type Rounding = 'half_even' | 'half_up' | 'floor' | 'ceiling' | 'down'

/** Python's decimal.Overflow (trapped): the result's exponent passed EMAX. */
export class DecimalOverflow extends Error {}
/** Python's decimal.InvalidOperation and its kin (DivisionImpossible, DivisionUndefined, DivisionByZero). */
export class DecimalInvalid extends Error {}

const DECIMAL_TEXT = /^([+-])?(?:(\d+)(?:\.(\d*))?|\.(\d+))(?:[eE]([+-]?\d+))?$/

export class Decimal {
  /** sign 1 is negative (negative zero exists, as in Python); `digits` has no leading zeros. */
  private constructor(
    readonly sign: 0 | 1,
    readonly digits: string,
    readonly exp: number,
  ) {}

  static triple(sign: 0 | 1, coefficient: string | bigint, exp: number): Decimal {
    let digits = typeof coefficient === 'bigint' ? coefficient.toString() : coefficient
    if (digits.length > 1 && digits[0] === '0') digits = digits.replace(/^0+(?=\d)/, '')
    return new Decimal(sign, digits, exp)
  }

  /** Exact value of a decimal string (`Decimal(text)` in Python); throws DecimalInvalid if it is none. */
  static parse(text: string): Decimal {
    const m = DECIMAL_TEXT.exec(text.trim())
    if (!m) throw new DecimalInvalid(`not a number: ${text.slice(0, 40)}`)
    const [, sign, whole, fraction, onlyFraction, exponent] = m
    const intPart = whole ?? ''
    const fracPart = fraction ?? onlyFraction ?? ''
    const exp = (exponent ? Number(exponent) : 0) - fracPart.length
    if (!Number.isSafeInteger(exp)) throw new DecimalInvalid(`not a number: ${text.slice(0, 40)}`)
    return Decimal.triple(sign === '-' ? 1 : 0, intPart + fracPart || '0', exp)
  }

  static fromBigInt(value: bigint): Decimal {
    return value < 0n ? Decimal.triple(1, -value, 0) : Decimal.triple(0, value, 0)
  }

  static fromInt(value: number): Decimal {
    return Decimal.fromBigInt(BigInt(value))
  }

  isZero(): boolean {
    return this.digits === '0'
  }

  /** The exponent of the most significant digit. */
  adjusted(): number {
    return this.exp + this.digits.length - 1
  }

  isInteger(): boolean {
    return compare(this, toIntegralValue(this, 'half_even')) === 0
  }

  /** Python's format(value, "f"): plain notation, every digit kept ("1000", "2.50", "-0"). */
  toFixed(): string {
    let self: Decimal = this
    if (self.isZero() && self.exp > 0) self = rescale(self, 0, 'half_even')
    const sign = self.sign ? '-' : ''
    const dotplace = self.exp + self.digits.length
    let intpart: string
    let fracpart: string
    if (dotplace < 0) {
      intpart = '0'
      fracpart = '0'.repeat(-dotplace) + self.digits
    } else if (dotplace > self.digits.length) {
      intpart = self.digits + '0'.repeat(dotplace - self.digits.length)
      fracpart = ''
    } else {
      intpart = self.digits.slice(0, dotplace) || '0'
      fracpart = self.digits.slice(dotplace)
    }
    return sign + intpart + (fracpart ? '.' + fracpart : '')
  }

  /** Python's str(Decimal): scientific notation when the exponent is large (e.g. "1.1E+39"). */
  toString(): string {
    const leftdigits = this.exp + this.digits.length
    let dotplace: number
    if (this.exp <= 0 && leftdigits > -6) dotplace = leftdigits
    else dotplace = 1
    let intpart: string
    let fracpart: string
    if (dotplace <= 0) {
      intpart = '0'
      fracpart = '.' + '0'.repeat(-dotplace) + this.digits
    } else if (dotplace >= this.digits.length) {
      intpart = this.digits + '0'.repeat(dotplace - this.digits.length)
      fracpart = ''
    } else {
      intpart = this.digits.slice(0, dotplace)
      fracpart = '.' + this.digits.slice(dotplace)
    }
    const e = leftdigits - dotplace
    const exp = e === 0 ? '' : 'E' + (e > 0 ? '+' : '-') + Math.abs(e)
    return (this.sign ? '-' : '') + intpart + fracpart + exp
  }

  /** The nearest JavaScript number (for display or JSON; exactness is lost). */
  toNumber(): number {
    return Number(this.toString())
  }

  toJSON(): string {
    return this.toFixed()
  }
}

// --- rounding (CPython's _round_* helpers: 1 round up, 0 exact, -1 truncated) ---------------------

function allZeros(digits: string, from: number): boolean {
  for (let i = from; i < digits.length; i++) if (digits[i] !== '0') return false
  return true
}

function exactHalf(digits: string, at: number): boolean {
  return digits[at] === '5' && allZeros(digits, at + 1)
}

function roundDown(d: Decimal, at: number): number {
  return allZeros(d.digits, at) ? 0 : -1
}

function roundHalfUp(d: Decimal, at: number): number {
  if ('56789'.includes(d.digits[at])) return 1
  return allZeros(d.digits, at) ? 0 : -1
}

const ROUNDERS: Record<Rounding, (d: Decimal, at: number) => number> = {
  down: roundDown,
  half_up: roundHalfUp,
  half_even: (d, at) =>
    exactHalf(d.digits, at) && (at === 0 || '02468'.includes(d.digits[at - 1])) ? -1 : roundHalfUp(d, at),
  ceiling: (d, at) => (d.sign ? roundDown(d, at) : -roundDown(d, at)),
  floor: (d, at) => (!d.sign ? roundDown(d, at) : -roundDown(d, at)),
}

const TEN = 10n
function pow10(n: number): bigint {
  return TEN ** BigInt(n)
}

/** Round to the context: precision, exponent range (CPython Decimal._fix, clamp = 0). */
export function fix(d: Decimal): Decimal {
  if (d.isZero()) {
    const newExp = Math.min(Math.max(d.exp, ETINY), EMAX)
    return newExp !== d.exp ? Decimal.triple(d.sign, '0', newExp) : d
  }
  let expMin = d.digits.length + d.exp - PRECISION
  if (expMin > ETOP) throw new DecimalOverflow('above Emax')
  if (expMin < ETINY) expMin = ETINY
  if (d.exp < expMin) {
    let self = d
    let digits = d.digits.length + d.exp - expMin
    if (digits < 0) {
      self = Decimal.triple(d.sign, '1', expMin - 1)
      digits = 0
    }
    const changed = ROUNDERS.half_even(self, digits)
    let coeff = self.digits.slice(0, digits) || '0'
    if (changed > 0) {
      coeff = (BigInt(coeff) + 1n).toString()
      if (coeff.length > PRECISION) {
        coeff = coeff.slice(0, -1)
        expMin += 1
      }
    }
    if (expMin > ETOP) throw new DecimalOverflow('above Emax')
    return Decimal.triple(self.sign, coeff, expMin)
  }
  return d
}

/** Same value at exponent `exp`, rounding if digits are lost (CPython Decimal._rescale). */
export function rescale(d: Decimal, exp: number, rounding: Rounding): Decimal {
  if (d.isZero()) return Decimal.triple(d.sign, '0', exp)
  if (d.exp >= exp) return Decimal.triple(d.sign, d.digits + '0'.repeat(d.exp - exp), exp)
  let self = d
  let digits = d.digits.length + d.exp - exp
  if (digits < 0) {
    self = Decimal.triple(d.sign, '1', exp - 1)
    digits = 0
  }
  const changed = ROUNDERS[rounding](self, digits)
  let coeff = self.digits.slice(0, digits) || '0'
  if (changed === 1) coeff = (BigInt(coeff) + 1n).toString()
  return Decimal.triple(self.sign, coeff, exp)
}

/** NUMBER_CONTEXT.create_decimal: the value rounded into the context. */
export function create(d: Decimal): Decimal {
  return fix(d)
}

function negate(d: Decimal): Decimal {
  return Decimal.triple(d.sign ? 0 : 1, d.digits, d.exp)
}

function copyAbs(d: Decimal): Decimal {
  return d.sign ? Decimal.triple(0, d.digits, d.exp) : d
}

export function add(a: Decimal, b: Decimal): Decimal {
  let exp = Math.min(a.exp, b.exp)
  if (a.isZero() && b.isZero()) return fix(Decimal.triple(Math.min(a.sign, b.sign) as 0 | 1, '0', exp))
  if (a.isZero()) {
    exp = Math.max(exp, b.exp - PRECISION - 1)
    return fix(rescale(b, exp, 'half_even'))
  }
  if (b.isZero()) {
    exp = Math.max(exp, a.exp - PRECISION - 1)
    return fix(rescale(a, exp, 'half_even'))
  }
  // _WorkRep + _normalize: a tiny operand stands in as 10**exp, which rounds the same.
  const op1 = { sign: a.sign as number, int: BigInt(a.digits), exp: a.exp, len: a.digits.length }
  const op2 = { sign: b.sign as number, int: BigInt(b.digits), exp: b.exp, len: b.digits.length }
  const [tmp, other] = op1.exp < op2.exp ? [op2, op1] : [op1, op2]
  const limit = tmp.exp + Math.min(-1, tmp.len - PRECISION - 2)
  if (other.len + other.exp - 1 < limit) {
    other.int = 1n
    other.exp = limit
  }
  tmp.int *= pow10(tmp.exp - other.exp)
  tmp.exp = other.exp

  let first = op1
  let second = op2
  let sign: 0 | 1
  if (first.sign !== second.sign) {
    if (first.int === second.int) return fix(Decimal.triple(0, '0', exp))
    if (first.int < second.int) [first, second] = [second, first]
    if (first.sign === 1) {
      sign = 1
      ;[first.sign, second.sign] = [second.sign, first.sign]
    } else sign = 0
  } else if (first.sign === 1) {
    sign = 1
    first.sign = 0
    second.sign = 0
  } else sign = 0
  const result = second.sign === 0 ? first.int + second.int : first.int - second.int
  return fix(Decimal.triple(sign, result, first.exp))
}

export function subtract(a: Decimal, b: Decimal): Decimal {
  return add(a, negate(b))
}

export function multiply(a: Decimal, b: Decimal): Decimal {
  const sign = (a.sign ^ b.sign) as 0 | 1
  const exp = a.exp + b.exp
  if (a.isZero() || b.isZero()) return fix(Decimal.triple(sign, '0', exp))
  if (a.digits === '1') return fix(Decimal.triple(sign, b.digits, exp))
  if (b.digits === '1') return fix(Decimal.triple(sign, a.digits, exp))
  return fix(Decimal.triple(sign, BigInt(a.digits) * BigInt(b.digits), exp))
}

export function divide(a: Decimal, b: Decimal): Decimal {
  if (b.isZero()) throw new DecimalInvalid(a.isZero() ? '0 / 0' : 'x / 0')
  const sign = (a.sign ^ b.sign) as 0 | 1
  let exp: number
  let coeff: bigint
  if (a.isZero()) {
    exp = a.exp - b.exp
    coeff = 0n
  } else {
    const shift = b.digits.length - a.digits.length + PRECISION + 1
    exp = a.exp - b.exp - shift
    const op1 = BigInt(a.digits)
    const op2 = BigInt(b.digits)
    let remainder: bigint
    if (shift >= 0) {
      const n = op1 * pow10(shift)
      coeff = n / op2
      remainder = n % op2
    } else {
      const m = op2 * pow10(-shift)
      coeff = op1 / m
      remainder = op1 % m
    }
    if (remainder !== 0n) {
      if (coeff % 5n === 0n) coeff += 1n // keeps the rounding of the inexact quotient correct
    } else {
      const ideal = a.exp - b.exp
      while (exp < ideal && coeff % 10n === 0n) {
        coeff /= 10n
        exp += 1
      }
    }
  }
  return fix(Decimal.triple(sign, coeff, exp))
}

/** Python's `%` on Decimals: the remainder has the sign of the dividend (-7 % 3 == -1). */
export function remainder(a: Decimal, b: Decimal): Decimal {
  if (b.isZero()) throw new DecimalInvalid('x % 0')
  const ideal = Math.min(a.exp, b.exp)
  const expdiff = a.adjusted() - b.adjusted()
  if (a.isZero() || expdiff <= -2) return fix(rescale(a, ideal, 'half_even'))
  if (expdiff <= PRECISION) {
    let op1 = BigInt(a.digits)
    let op2 = BigInt(b.digits)
    if (a.exp >= b.exp) op1 *= pow10(a.exp - b.exp)
    else op2 *= pow10(b.exp - a.exp)
    const q = op1 / op2
    const r = op1 % op2
    if (q < pow10(PRECISION)) return fix(Decimal.triple(a.sign, r, ideal))
  }
  throw new DecimalInvalid('quotient too large in //, % or divmod')
}

export function minus(d: Decimal): Decimal {
  return fix(d.isZero() ? copyAbs(d) : negate(d))
}

export function abs(d: Decimal): Decimal {
  if (d.sign) return minus(d)
  return fix(d.isZero() ? copyAbs(d) : d)
}

/** Python's Decimal.to_integral_value(rounding): no context rounding, no signals. */
export function toIntegralValue(d: Decimal, rounding: Rounding): Decimal {
  if (d.exp >= 0) return d
  if (d.isZero()) return Decimal.triple(d.sign, '0', 0)
  return rescale(d, 0, rounding)
}

/** Python's value.quantize(Decimal(1).scaleb(exp), rounding, context=NUMBER_CONTEXT). */
export function quantize(d: Decimal, exp: number, rounding: Rounding): Decimal {
  if (!(ETINY <= exp && exp <= EMAX)) throw new DecimalInvalid('target exponent out of bounds in quantize')
  if (d.isZero()) return fix(Decimal.triple(d.sign, '0', exp))
  if (d.adjusted() > EMAX) throw new DecimalInvalid('exponent of quantize result too large for current context')
  if (d.adjusted() - exp + 1 > PRECISION)
    throw new DecimalInvalid('quantize result has too many digits for current context')
  const ans = rescale(d, exp, rounding)
  if (ans.adjusted() > EMAX) throw new DecimalInvalid('exponent of quantize result too large for current context')
  if (ans.digits.length > PRECISION) throw new DecimalInvalid('quantize result has too many digits for current context')
  return fix(ans)
}

/** Numeric comparison (-1, 0, 1); 2.50 and 2.5 are equal, as are 0 and -0. */
export function compare(a: Decimal, b: Decimal): number {
  const aZero = a.isZero()
  const bZero = b.isZero()
  if (aZero && bZero) return 0
  if (aZero) return b.sign ? 1 : -1
  if (bZero) return a.sign ? -1 : 1
  if (a.sign !== b.sign) return a.sign ? -1 : 1
  const flip = a.sign ? -1 : 1
  const aAdj = a.adjusted()
  const bAdj = b.adjusted()
  if (aAdj !== bAdj) return aAdj > bAdj ? flip : -flip
  const length = Math.max(a.digits.length, b.digits.length)
  const x = a.digits.padEnd(length, '0')
  const y = b.digits.padEnd(length, '0')
  return x === y ? 0 : x > y ? flip : -flip
}

/** Decimal(1).scaleb(n) style helper: 10**n as a Decimal with coefficient 1. */
export function powerOfTen(n: number): Decimal {
  return Decimal.triple(0, '1', n)
}
