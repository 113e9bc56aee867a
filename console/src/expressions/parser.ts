/**
 * Recursive-descent parser: tokens -> syntax tree (chalicelib/expressions/parser.py).
 *
 * Precedence, lowest first: or | and | not | comparisons (== != < <= > >= in, not in) | + - |
 * * / % | unary - | postfix (.name, [index]) | primary. Every way of nesting passes through nested(),
 * which counts depth and stops at MAX_AST_DEPTH. Function names and argument counts are checked
 * here, and literal regex patterns are screened, so a stored expression fails only on its data.
 */
import type { Decimal } from './decimal'
import { ExpressionError, ExpressionLimitExceeded } from './errors'
import { FUNCTIONS } from './functions'
import { syntaxError, tokenize, type Token } from './lexer'
import { MAX_AST_DEPTH, MAX_AST_NODES } from './limits'
import { children, type Node } from './nodes'

const COMPARISONS = new Set(['==', '!=', '<', '<=', '>', '>='])
const ADDITIVE = new Set(['+', '-'])
const MULTIPLICATIVE = new Set(['*', '/', '%'])
const CONSTANTS: Record<string, boolean | null> = { true: true, false: false, null: null }

export function parse(source: string): Node {
  let tree: Node
  try {
    tree = new Parser(source).parse()
  } catch (error) {
    if (error instanceof RangeError) throw new ExpressionLimitExceeded('expression nested too deeply', { source })
    throw error
  }
  checkSize(tree, source)
  return tree
}

function checkSize(tree: Node, source: string): void {
  let count = 0
  const pending: [Node, number][] = [[tree, 1]]
  while (pending.length) {
    const [node, depth] = pending.pop()!
    count += 1
    if (depth > MAX_AST_DEPTH)
      throw new ExpressionLimitExceeded(`expression nested deeper than ${MAX_AST_DEPTH} levels at position ${node.position}`, {
        position: node.position,
        source,
      })
    for (const child of children(node)) pending.push([child, depth + 1])
  }
  if (count > MAX_AST_NODES) throw new ExpressionLimitExceeded(`expression has ${count} parts; the limit is ${MAX_AST_NODES}`, { source })
}

/** difflib.get_close_matches(word, candidates, n=1) for "did you mean" hints. */
export function closeMatch(word: string, candidates: Iterable<string>): string | null {
  let best: string | null = null
  let bestScore = 0.6
  for (const candidate of candidates) {
    const score = similarity(word, candidate)
    if (score >= bestScore && (best === null || score > bestScore)) {
      best = candidate
      bestScore = score
    }
  }
  return best
}

function similarity(a: string, b: string): number {
  if (!a.length && !b.length) return 1
  const row = new Array<number>(b.length + 1).fill(0)
  for (let i = 1; i <= a.length; i++) {
    let previous = 0
    for (let j = 1; j <= b.length; j++) {
      const saved = row[j]
      row[j] = a[i - 1] === b[j - 1] ? previous + 1 : Math.max(row[j], row[j - 1])
      previous = saved
    }
  }
  return (2 * row[b.length]) / (a.length + b.length)
}

class Parser {
  private readonly tokens: Token[]
  private index = 0
  private depth = 0

  constructor(private readonly source: string) {
    this.tokens = tokenize(source)
  }

  private get token(): Token {
    return this.tokens[this.index]
  }

  private advance(): Token {
    const token = this.tokens[this.index]
    this.index = Math.min(this.index + 1, this.tokens.length - 1)
    return token
  }

  private at(kind: Token['kind'], value?: string): boolean {
    return this.token.kind === kind && (value === undefined || this.token.value === value)
  }

  private accept(kind: Token['kind'], value?: string): Token | null {
    return this.at(kind, value) ? this.advance() : null
  }

  private expectOp(value: string, purpose: string): Token {
    if (!this.at('op', value)) throw this.unexpected(` (expected '${value}' ${purpose})`)
    return this.advance()
  }

  private unexpected(hint = ''): ExpressionError {
    const token = this.token
    const what = token.kind === 'eof' ? 'end of expression' : token.kind === 'string' ? 'string' : `'${String(token.value)}'`
    return syntaxError(`unexpected ${what}${hint}`, token.position, this.source)
  }

  private nested(position: number, parseNext: () => Node): Node {
    this.depth += 1
    if (this.depth > MAX_AST_DEPTH)
      throw new ExpressionLimitExceeded(`expression nested deeper than ${MAX_AST_DEPTH} levels at position ${position}`, {
        position,
        source: this.source,
      })
    const node = parseNext()
    this.depth -= 1
    return node
  }

  parse(): Node {
    if (this.at('eof')) throw syntaxError('empty expression', 0, this.source)
    const node = this.or()
    if (!this.at('eof')) throw this.unexpected()
    return node
  }

  private or(): Node {
    let node = this.and()
    let token: Token | null
    while ((token = this.accept('keyword', 'or'))) node = { type: 'logical', operator: 'or', left: node, right: this.and(), position: token.position }
    return node
  }

  private and(): Node {
    let node = this.not()
    let token: Token | null
    while ((token = this.accept('keyword', 'and'))) node = { type: 'logical', operator: 'and', left: node, right: this.not(), position: token.position }
    return node
  }

  private not(): Node {
    const token = this.accept('keyword', 'not')
    if (token) return { type: 'unary', operator: 'not', operand: this.nested(token.position, () => this.not()), position: token.position }
    return this.comparison()
  }

  private comparison(): Node {
    const node = this.additive()
    const [operator, position] = this.comparisonOperator(false)
    if (operator === null) return node
    const result: Node = { type: 'binary', operator, left: node, right: this.additive(), position }
    if (this.comparisonOperator(true)[0] !== null)
      throw syntaxError("comparisons cannot be chained; combine them with 'and'", this.token.position, this.source)
    return result
  }

  private comparisonOperator(peekOnly: boolean): [string | null, number] {
    const token = this.token
    let operator: string
    if (token.kind === 'op' && COMPARISONS.has(token.value as string)) operator = token.value as string
    else if (this.at('keyword', 'in')) operator = 'in'
    else if (this.at('keyword', 'not') && this.tokens[this.index + 1]?.kind === 'keyword' && this.tokens[this.index + 1].value === 'in')
      operator = 'not in'
    else return [null, token.position]
    if (!peekOnly) {
      this.advance()
      if (operator === 'not in') this.advance()
    }
    return [operator, token.position]
  }

  private binaryLevel(operators: Set<string>, parseOperand: () => Node): Node {
    let node = parseOperand()
    while (this.token.kind === 'op' && operators.has(this.token.value as string)) {
      const token = this.advance()
      node = { type: 'binary', operator: token.value as string, left: node, right: parseOperand(), position: token.position }
    }
    return node
  }

  private additive(): Node {
    return this.binaryLevel(ADDITIVE, () => this.multiplicative())
  }

  private multiplicative(): Node {
    return this.binaryLevel(MULTIPLICATIVE, () => this.unary())
  }

  private unary(): Node {
    const token = this.accept('op', '-')
    if (token) return { type: 'unary', operator: '-', operand: this.nested(token.position, () => this.unary()), position: token.position }
    return this.postfix()
  }

  private postfix(): Node {
    let node = this.primary()
    for (;;) {
      let token: Token | null
      if ((token = this.accept('op', '.'))) {
        if (!this.at('name')) throw this.unexpected(" (expected a field name after '.')")
        node = { type: 'getattr', target: node, name: this.advance().value as string, position: token.position }
      } else if ((token = this.accept('op', '['))) {
        const position = token.position
        const index = this.nested(position, () => this.or())
        this.expectOp(']', 'to close the index')
        node = { type: 'index', target: node, index, position }
      } else {
        return node
      }
    }
  }

  private primary(): Node {
    const token = this.token
    if (token.kind === 'number' || token.kind === 'string')
      return { type: 'literal', value: this.advance().value as Decimal | string, position: token.position }
    if (token.kind === 'keyword' && Object.prototype.hasOwnProperty.call(CONSTANTS, token.value as string)) {
      this.advance()
      return { type: 'literal', value: CONSTANTS[token.value as string], position: token.position }
    }
    if (token.kind === 'variable') return { type: 'variable', name: this.advance().value as string, position: token.position }
    if (token.kind === 'name') {
      this.advance()
      if (this.at('op', '(')) return this.call(token)
      return { type: 'field', name: token.value as string, position: token.position }
    }
    if (this.accept('op', '(')) {
      const node = this.nested(token.position, () => this.or())
      this.expectOp(')', 'to close the parenthesis')
      return node
    }
    if (this.accept('op', '[')) return { type: 'list', items: this.sequence(']', token.position), position: token.position }
    throw this.unexpected()
  }

  private sequence(closing: string, position: number): Node[] {
    const items: Node[] = []
    if (!this.at('op', closing)) {
      items.push(this.nested(position, () => this.or()))
      while (this.accept('op', ',')) items.push(this.nested(position, () => this.or()))
    }
    this.expectOp(closing, closing === ']' ? 'to close the list' : 'to close the argument list')
    return items
  }

  private call(name: Token): Node {
    const fname = name.value as string
    const spec = Object.prototype.hasOwnProperty.call(FUNCTIONS, fname) ? FUNCTIONS[fname] : undefined
    if (spec === undefined) {
      const close = closeMatch(fname, Object.keys(FUNCTIONS))
      const hint = close ? ` (did you mean '${close}'?)` : ''
      throw syntaxError(`unknown function '${fname}'${hint}`, name.position, this.source)
    }
    this.advance() // '('
    const args = this.sequence(')', name.position)
    const problem = spec.arityProblem(args.length)
    if (problem) throw syntaxError(problem, name.position, this.source)
    for (const [index, check] of Object.entries(spec.literalChecks)) {
      const arg = args[Number(index)]
      if (arg?.type === 'literal') {
        try {
          check(arg.value) // e.g. a regex literal is compiled (and screened) when the expression is
        } catch (error) {
          if (error instanceof ExpressionError)
            throw error.withMessage(`${error.message} at position ${arg.position}`, arg.position, this.source)
          throw error
        }
      }
    }
    return { type: 'call', name: fname, args, position: name.position }
  }
}
