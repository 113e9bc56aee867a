/** What the case table cannot express (tests/unit/test_expressions.py does the same on the server). */
import { describe, expect, it } from 'vitest'
import { compile, Decimal, ExpressionError, ExpressionLimitExceeded, ServerOnlyExpression, toPlain } from './index'
import { compare } from './decimal'

const run = (source: string, context: Record<string, unknown> = {}) => compile(source).evaluate(context)
const dec = (value: unknown) => (value as Decimal).toString()

function limitError(source: string, context: Record<string, unknown> = {}): ExpressionLimitExceeded {
  const started = performance.now()
  let caught: unknown
  try {
    run(source, context)
  } catch (error) {
    caught = error
  }
  expect(performance.now() - started).toBeLessThan(1000)
  expect(caught).toBeInstanceOf(ExpressionLimitExceeded)
  expect((caught as ExpressionError).code).toBe('expression_limit_exceeded')
  return caught as ExpressionLimitExceeded
}

describe('compile', () => {
  it('caches and reuses expressions', () => {
    const first = compile('qty * 2')
    expect(compile('qty * 2')).toBe(first)
    expect(dec(first.evaluate({ qty: 2 }))).toBe('4')
    expect(dec(first.evaluate({ qty: 5 }))).toBe('10')
  })

  it('lists field roots and variables', () => {
    const expression = compile(
      "sum(parts_used.qty) > limit and $user.id == owner.id or 'x' in $user.roles and customer['name'] != $now and if(a, b[0], c.d)",
    )
    expect([...expression.fieldRoots].sort()).toEqual(['a', 'b', 'c', 'customer', 'limit', 'owner', 'parts_used'])
    expect([...expression.variables].sort()).toEqual(['$now', '$user'])
    expect(compile('1 + 2').fieldRoots.size).toBe(0)
  })

  it('checks references like check_expression', () => {
    expect(() => compile('qty > 1 and $user.id != null').check(['qty'])).not.toThrow()
    expect(() => compile('custmer.name').check(['qty', 'customer'])).toThrow("unknown field 'custmer' (did you mean 'customer'?)")
    expect(() => compile('$usr.id').check(['qty'])).toThrow("unknown variable '$usr' (did you mean '$user'?)")
    expect(() => compile('a + b + c').check(['a'])).toThrow("unknown field 'b'")
  })

  it('reports positions', () => {
    try {
      compile('qty + )')
      expect.unreachable()
    } catch (error) {
      expect((error as ExpressionError).position).toBe(6)
      expect((error as ExpressionError).message).toContain('at position 6')
    }
    try {
      run("1 + 'a' * 2")
      expect.unreachable()
    } catch (error) {
      expect((error as ExpressionError).position).toBe(8)
    }
  })

  it('checks functions, arity and literal patterns at parse time, even in untaken branches', () => {
    expect(() => compile('false and nope(1)')).toThrow("unknown function 'nope'")
    expect(() => compile('if(true, 1, len(a, b))')).toThrow('len() takes 1 argument, got 2')
    expect(() => compile('round(1, 2, 3)')).toThrow('round() takes 1 to 2 arguments, got 3')
    expect(() => compile("false and matches(a, '[')")).toThrow('invalid pattern')
    expect(() => compile("matches(a, '(a|b+)*c')")).toThrow('exponential')
  })

  it.each([
    "__import__('os').system('echo hacked')", "eval('1+1')", 'constructor.constructor("alert(1)")()', 'a.b(c)', '`ls`', 'a ** 2',
    'a // 2', "{'a': 1}", 'a; b', 'a => 1', '(lambda x: x)(1)', 'new Function()',
  ])('rejects code: %s', (source) => {
    expect(() => compile(source)).toThrow(ExpressionError)
  })
})

describe('evaluation', () => {
  it('short-circuits and, or, if and coalesce', () => {
    const reads: string[] = []
    const spy = (data: Record<string, unknown>) =>
      new Proxy(data, {
        getOwnPropertyDescriptor(target, key) {
          reads.push(String(key))
          return Reflect.getOwnPropertyDescriptor(target, key)
        },
      })
    expect(run('a and b', spy({ a: 0 }))).toBe(false)
    expect(reads.filter((k) => k === 'b')).toEqual([])
    expect(dec(run('coalesce(a, b, c)', spy({ b: 3 })))).toBe('3')
    expect(reads.includes('c')).toBe(false)
  })

  it('is exact', () => {
    expect(dec(run('1 / 3 * 3'))).toBe('0.9999999999999999999999999999')
    expect(run('0.1 + 0.2 == 0.3')).toBe(true)
    expect(dec(run('price * qty', { price: 19.99, qty: 3 }))).toBe('59.97')
    expect(dec(run('1.00 / 2'))).toBe('0.50')
    expect(run('to_string(2.50 * 2)')).toBe('5.00')
    expect(dec(run('1' + '1'.repeat(39)))).toBe('1.111111111111111111111111111E+39')
  })

  it('normalises context values on read and never reads the prototype chain', () => {
    expect(dec(run('n', { n: 5 }))).toBe('5')
    expect(dec(run('x', { x: 0.1 }))).toBe('0.1')
    expect(dec(run('x', { x: 10n ** 30n }))).toBe('1.000000000000000000000000000E+30')
    expect(run('x', { x: Number.NaN })).toBe(null)
    expect(run('x', { x: Number.POSITIVE_INFINITY })).toBe(null)
    expect(run('t', { t: new Date(Date.UTC(2024, 2, 1, 8)) })).toBe('2024-03-01T08:00:00Z')
    expect(run('s', { s: new Set(['b', 'a']) })).toEqual(['a', 'b'])
    for (const source of ['obj.constructor', 'obj.__proto__', "obj['toString']", 'obj.hasOwnProperty', 'constructor', '__proto__'])
      expect(run(source, { obj: { a: 1 } })).toBe(null)
    expect(() => run('x', { x: () => 1 })).toThrow('unsupported value')
  })

  it('returns containers from the context as they are', () => {
    const rows = [{ qty: 1 }]
    expect(run('rows', { rows })).toBe(rows)
  })

  it('projects subtable rows into aggregates', () => {
    const record = { parts_used: [{ qty: 2, unit_price: 10 }, { qty: 1, unit_price: 2.5 }, { qty: null }] }
    expect(dec(run('sum(parts_used.qty)', record))).toBe('3')
    expect(dec(run('avg(parts_used.qty)', record))).toBe('1.5')
    expect(toPlain(run('parts_used.qty', record))).toEqual([2, 1, null])
  })

  it('falls back to the clock for today() and now()', () => {
    const today = run('today()') as string
    expect(today).toMatch(/^\d{4}-\d{2}-\d{2}$/)
    expect(run('now()') as string).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/)
    expect(run('today()', { $today: '2020-01-01' })).toBe('2020-01-01')
  })

  it('leaves signature_valid on well-formed signatures to the server', () => {
    expect(run('signature_valid(sig)', { sig: 'x' })).toBe(false)
    expect(run('signature_valid(sig)', { sig: { signed_fields: 'a' } })).toBe(false)
    const sig = { key: 'k', signed_sha256: 'a', signed_mac: 'b', signed_at: 't', signed_by: 'u', signed_fields: ['a'] }
    expect(() => run('signature_valid(sig)', { sig, a: 1 })).toThrow(ServerOnlyExpression)
  })
})

describe('limits', () => {
  it('bounds the source', () => {
    expect(limitError('a + '.repeat(1000) + 'a').message).toContain('4000')
    expect(() => compile("'" + 'x'.repeat(3998) + "'")).not.toThrow()
  })

  it.each([
    '('.repeat(500) + '1' + ')'.repeat(500), '('.repeat(5000), 'not '.repeat(1000) + 'x', '!'.repeat(1000) + 'x', '-'.repeat(1000) + '1',
    '['.repeat(1000), 'len('.repeat(500), 'a' + '[0]'.repeat(100), 'a' + '.b'.repeat(100), '1' + ' + 1'.repeat(60), 'x or '.repeat(60) + 'x',
  ])('bounds depth (%#)', (source) => {
    limitError(source)
  })

  it('bounds depth exactly at 40 and nodes at 1000', () => {
    expect(dec(run('-'.repeat(39) + '1'))).toBe('-1')
    limitError('-'.repeat(40) + '1')
    limitError('[' + Array(1000).fill('1').join(',') + ']')
    expect((run('[' + Array(999).fill('1').join(',') + ']') as unknown[]).length).toBe(999)
  })

  it('bounds numbers', () => {
    limitError('1'.repeat(41))
    const chain = Array(30).fill('9'.repeat(40)).join(' * ')
    expect(limitError(chain).message).toContain('too large')
    expect(limitError('-(' + chain + ')').message).toContain('too large')
    limitError('x * x * x * x', { x: Decimal.parse('1e300') })
    limitError('x + 1', { x: 10n ** 5000n })
    limitError('x + 1', { x: Decimal.parse('1e5000') })
    for (const source of ['sum([x, x])', 'avg([x, x])', 'abs(x) * 2', '-x - x', 'sum(rows.v)'])
      limitError(source, { x: Decimal.parse('9e999'), rows: [{ v: Decimal.parse('9e999') }, { v: Decimal.parse('9e999') }] })
    expect(() => run('x % 3', { x: Decimal.parse('9e999') })).toThrow('cannot be represented')
    expect(dec(run('x * x', { x: Decimal.parse('1e-999') }))).toBe('0E-1026')
    expect(compare(run('1 / 99999999999999999999 / 99999999999999999999 / 99999999999999999999') as Decimal, Decimal.fromInt(0))).toBe(1)
  })

  it('bounds steps, strings and lists', () => {
    const rows = Array(20_001).fill({ qty: 1 })
    for (const source of ['sum(rows.qty)', 'count(rows)', '1 in rows', 'rows == rows', 'max(rows)'])
      expect(limitError(source, { rows }).message).toContain('steps')
    limitError('concat(s, s)', { s: 'x'.repeat(60_000) })
    limitError('s + s', { s: 'x'.repeat(60_000) })
    limitError('rows + rows', { rows: Array(6_000).fill(1) })
    limitError("matches(s, '\\\\d*\\\\d*\\\\d*\\\\d*x')", { s: '1'.repeat(5_000) })
    limitError("matches(s, 'a')", { s: 'a'.repeat(10_001) })
  })
})

describe('calendar and text helpers', () => {
  it('checks a literal format_date pattern when the expression is compiled, a computed one when it runs', () => {
    const tooLong = 'Y'.repeat(101)
    expect(() => compile(`if(false, format_date('2024-01-01', '${tooLong}'), null)`)).toThrow(ExpressionLimitExceeded)
    expect(() => compile(`format_date('2024-01-01', '${'Y'.repeat(100)}')`)).not.toThrow()
    limitError('format_date(d, p)', { d: '2024-01-01', p: tooLong })
  })

  it('charges string work per 1,000 characters, as the server does', () => {
    const one = 'len(pad_left(e,w))'
    const many = (n: number) => 'sum([' + Array(n).fill(one).join(',') + '])'
    expect(dec(run(many(150), { e: '', w: Decimal.fromInt(100_000) }))).toBe('15000000')
    expect(limitError(many(201), { e: '', w: Decimal.fromInt(100_000) }).message).toContain('steps')
    limitError("pad_left('7', 100001)")
  })
})
