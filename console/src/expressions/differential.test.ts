/**
 * Random expressions (arithmetic with trailing zeros and long digit strings, rounding, aggregates,
 * dates with offsets and fractions, Unicode strings, Python regex patterns) evaluated by the server's
 * implementation - differential_cases.py wrote the results - must give exactly the same here: a
 * number's str() (digits and exponent: 2.50 is not 2.5), the same string, boolean or null, or an error
 * with the same code. A case that raises ServerOnlyExpression is only allowed for patterns whose
 * flags change case sensitivity in part of the pattern, which a JS RegExp cannot scope.
 */
import { expect, it } from 'vitest'
import raw from './differential_cases.json?raw'
import { compile, Decimal, ExpressionError, ServerOnlyExpression } from './index'
import { parseJson } from './python-json'

interface Case {
  expr: string
  context: Record<string, unknown>
  result?: unknown
  error?: string
  message?: string
}

const cases = parseJson(raw) as Case[]

function encode(value: unknown): unknown {
  if (value instanceof Decimal) return 'D:' + value.toString()
  if (typeof value === 'string') return 'S:' + value
  if (Array.isArray(value)) return value.map(encode)
  return value
}

it('gives the server results on every generated case', () => {
  expect(cases.length).toBeGreaterThan(1000)
  const mismatches: string[] = []
  let serverOnly = 0
  for (const c of cases) {
    let got: unknown
    try {
      got = encode(compile(c.expr).evaluate(c.context))
    } catch (error) {
      if (error instanceof ServerOnlyExpression && c.expr.includes('(?i:')) {
        serverOnly += 1
        continue
      }
      if (!(error instanceof ExpressionError)) throw error
      got = { error: error.code }
    }
    const want = c.error !== undefined ? { error: c.error } : c.result
    if (JSON.stringify(got) !== JSON.stringify(want))
      mismatches.push(`${c.expr}: server ${JSON.stringify(want)} ${c.message ?? ''}, console ${JSON.stringify(got)}`)
  }
  expect(mismatches).toEqual([])
  expect(serverOnly).toBeLessThan(cases.length / 50)
})
