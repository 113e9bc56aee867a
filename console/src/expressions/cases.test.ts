/**
 * The server's table of expression cases (tests/unit/expression_cases.json, read by
 * tests/unit/test_expressions.py) run through the TypeScript implementation, compared the way the
 * Python test compares them: numbers must be Decimals equal in value, booleans and null exact,
 * strings exact, lists and objects element by element; error cases must raise the same error code.
 * The file is read as Python's json module reads it (./python-json.ts), so integers stay exact and
 * floats become the Decimal the server makes of them.
 */
import { describe, expect, it } from 'vitest'
import raw from '../../../tests/unit/expression_cases.json?raw'
import { compile, Decimal, ExpressionError, ServerOnlyExpression } from './index'
import { compare } from './decimal'
import { parseJson } from './python-json'

// --- test_expressions.same() --------------------------------------------------------------------------

function same(actual: unknown, expected: unknown): boolean {
  if (typeof expected === 'boolean' || expected === null) return actual === expected
  if (typeof expected === 'bigint') return actual instanceof Decimal && compare(actual, Decimal.fromBigInt(expected)) === 0
  if (expected instanceof Decimal) return actual instanceof Decimal && compare(actual, expected) === 0
  if (Array.isArray(expected))
    return Array.isArray(actual) && actual.length === expected.length && expected.every((e, k) => same(actual[k], e))
  if (typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual) || actual instanceof Decimal) return false
    const a = Object.keys(actual).sort()
    const e = Object.keys(expected).sort()
    return (
      a.length === e.length &&
      a.every((key, k) => key === e[k]) &&
      e.every((key) => same((actual as Record<string, unknown>)[key], (expected as Record<string, unknown>)[key]))
    )
  }
  return typeof actual === typeof expected && actual === expected
}

function show(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v instanceof Decimal ? `Decimal(${v.toString()})` : v))
}

interface Case {
  expr: string
  context: Record<string, unknown>
  result?: unknown
  error?: string
}

const CASES = parseJson(raw) as Case[]

/**
 * Cases only the server can decide, with the reason. Empty: no case in the table needs the server's
 * secret (signature_valid) or a pattern construct the browser cannot express.
 */
const SERVER_ONLY: Record<string, string> = {}

describe('the server expression case table', () => {
  it('is the table the Python test reads', () => {
    expect(CASES.length).toBeGreaterThan(300)
    for (const c of CASES) expect(['result', 'error'].some((key) => key in c)).toBe(true)
  })

  let passed = 0
  CASES.forEach((c, index) => {
    const name = `#${index} ${c.expr.length > 60 ? c.expr.slice(0, 60) + '…' : c.expr}`
    const run = SERVER_ONLY[c.expr] ? it.skip : it
    run(name, () => {
      if (c.error !== undefined) {
        let caught: unknown = null
        try {
          compile(c.expr).evaluate(c.context)
        } catch (error) {
          caught = error
        }
        expect(caught, `${c.expr} should raise ${c.error}`).toBeInstanceOf(ExpressionError)
        expect(caught).not.toBeInstanceOf(ServerOnlyExpression)
        expect((caught as ExpressionError).code, (caught as Error).message).toBe(c.error)
      } else {
        const result = compile(c.expr).evaluate(c.context)
        expect(same(result, c.result), `${c.expr} gave ${show(result)}, expected ${show(c.result)}`).toBe(true)
      }
      passed += 1
    })
  })

  it('passes every case that is not server-only', () => {
    const skipped = CASES.filter((c) => SERVER_ONLY[c.expr]).length
    expect(passed).toBe(CASES.length - skipped)
  })
})
