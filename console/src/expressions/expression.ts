/** Compiled expressions and the compile cache (chalicelib/expressions/__init__.py). */
import { closeMatch, parse } from './parser'
import { evaluate } from './evaluator'
import { ExpressionError } from './errors'
import { MAX_CACHED_EXPRESSIONS } from './limits'
import { walk, type Node } from './nodes'
import { Decimal } from './decimal'
import { isList, isMapping, type Mapping, type Value } from './values'

export const DEFAULT_VARIABLES = ['$user', '$now', '$today'] as const

export class Expression {
  /** Top-level record fields the expression reads (for dependency order and re-evaluation). */
  readonly fieldRoots: ReadonlySet<string>
  /** $variables it reads. */
  readonly variables: ReadonlySet<string>
  private readonly firstPositions: Map<string, number>

  constructor(
    readonly source: string,
    private readonly tree: Node,
  ) {
    const positions = new Map<string, number>()
    for (const node of walk(tree)) {
      if (node.type === 'field' || node.type === 'variable')
        positions.set(node.name, Math.min(node.position, positions.get(node.name) ?? node.position))
    }
    this.firstPositions = positions
    this.fieldRoots = new Set([...positions.keys()].filter((name) => !name.startsWith('$')))
    this.variables = new Set([...positions.keys()].filter((name) => name.startsWith('$')))
  }

  /** Decimal, string, boolean, null, or an array/object (taken from the context as-is, or built). */
  evaluate(context: Mapping = {}): Value {
    return evaluate(this.tree, context, this.source)
  }

  /** Compile-time check that every field and $variable exists (check_expression on the server). */
  check(knownFields: Iterable<string>, knownVariables: Iterable<string> = DEFAULT_VARIABLES): this {
    const known = { field: new Set(knownFields), variable: new Set(knownVariables) }
    const unknown = [...this.firstPositions.entries()]
      .filter(([name]) => !known[name.startsWith('$') ? 'variable' : 'field'].has(name))
      .sort((a, b) => a[1] - b[1])
    if (unknown.length) {
      const [name, position] = unknown[0]
      const kind = name.startsWith('$') ? 'variable' : 'field'
      const close = closeMatch(name, [...known[kind]].sort())
      const hint = close ? ` (did you mean '${close}'?)` : ''
      throw new ExpressionError(`unknown ${kind} '${name}'${hint} at position ${position}`, { position, source: this.source })
    }
    return this
  }

  toString(): string {
    return `Expression(${JSON.stringify(this.source)})`
  }
}

const cache = new Map<string, Expression>()

/** Parse once; later calls with the same source return the same Expression. Throws ExpressionError. */
export function compile(source: string): Expression {
  if (typeof source !== 'string') throw new ExpressionError(`expression must be a string, got ${typeof source}`)
  const cached = cache.get(source)
  if (cached) {
    cache.delete(source) // most recently used last
    cache.set(source, cached)
    return cached
  }
  const expression = new Expression(source, parse(source))
  if (cache.size >= MAX_CACHED_EXPRESSIONS) cache.delete(cache.keys().next().value as string)
  cache.set(source, expression)
  return expression
}

/** Decimals as JS numbers (display, JSON, form data); arrays and objects converted deeply. */
export function toPlain(value: unknown): unknown {
  if (value instanceof Decimal) return value.toNumber()
  if (isList(value)) return value.map(toPlain)
  if (isMapping(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toPlain(v)]))
  return value
}
