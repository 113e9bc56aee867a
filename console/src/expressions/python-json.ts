/**
 * JSON read the way Python's json module reads it, for tests that share data files with the server:
 * an integer literal is an exact integer (BigInt; JSON.parse would round 10000000000000000000001), a
 * literal with '.' or an exponent is a float, returned as the Decimal the server's evaluator makes of
 * it - Decimal(repr(float)), same digits and exponent (2.0 stays 2.0, 1e16 is 1E+16) - or as a JS
 * Infinity when it overflows (the server reads inf as a blank).
 */
import { Decimal } from './decimal'

/** Python's repr(float) as a Decimal: 2.0 keeps its one decimal place, 1e+16 its exponent. */
export function pythonFloat(text: string): Decimal | number {
  const x = Number(text)
  if (!Number.isFinite(x)) return x // json.loads('1e400') is inf, which the server reads as a blank
  const d = Decimal.parse(Object.is(x, -0) ? '-0' : String(x))
  const size = Math.abs(x)
  if (size === 0 || (size >= 1e-4 && size < 1e16)) {
    return d.exp >= 0 ? Decimal.triple(d.sign, d.digits + '0'.repeat(d.exp) + '0', -1) : d
  }
  const digits = d.digits.replace(/0+$/, '')
  return Decimal.triple(d.sign, digits, d.exp + d.digits.length - digits.length)
}

export function parseJson(text: string): unknown {
  let i = 0
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++
  }
  const value = (): unknown => {
    ws()
    const c = text[i]
    if (c === '{') {
      i++
      const out: Record<string, unknown> = {}
      ws()
      if (text[i] === '}') {
        i++
        return out
      }
      for (;;) {
        ws()
        const key = string()
        ws()
        if (text[i++] !== ':') throw new SyntaxError(`':' expected at ${i}`)
        out[key] = value()
        ws()
        if (text[i] === ',') i++
        else if (text[i] === '}') {
          i++
          return out
        } else throw new SyntaxError(`',' or '}' expected at ${i}`)
      }
    }
    if (c === '[') {
      i++
      const out: unknown[] = []
      ws()
      if (text[i] === ']') {
        i++
        return out
      }
      for (;;) {
        out.push(value())
        ws()
        if (text[i] === ',') i++
        else if (text[i] === ']') {
          i++
          return out
        } else throw new SyntaxError(`',' or ']' expected at ${i}`)
      }
    }
    if (c === '"') return string()
    for (const [word, result] of [['true', true], ['false', false], ['null', null]] as const) {
      if (text.startsWith(word, i)) {
        i += word.length
        return result
      }
    }
    const m = /^-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i, i + 5000))
    if (!m) throw new SyntaxError(`value expected at ${i}`)
    i += m[0].length
    return m[1] || m[2] ? pythonFloat(m[0]) : BigInt(m[0])
  }
  const string = (): string => {
    if (text[i] !== '"') throw new SyntaxError(`string expected at ${i}`)
    let end = i + 1
    while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1
    const result = JSON.parse(text.slice(i, end + 1)) as string
    i = end + 1
    return result
  }
  const result = value()
  ws()
  if (i !== text.length) throw new SyntaxError(`trailing data at ${i}`)
  return result
}
