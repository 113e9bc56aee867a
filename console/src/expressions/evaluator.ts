/**
 * Walks a parsed tree against a context and returns the value (chalicelib/expressions/evaluator.py).
 *
 * Data is only read through own properties and array indexing, so names like __proto__ or
 * constructor are just missing fields. Every node visit and every element touched by a projection
 * or list function costs one step from a fixed budget, which with the parser's size limits bounds
 * the run time of any expression on any record.
 */
import * as D from './decimal'
import { Decimal, DecimalInvalid, DecimalOverflow } from './decimal'
import { ExpressionError, ExpressionLimitExceeded } from './errors'
import { FUNCTIONS, type Runtime } from './functions'
import { MAX_EVALUATION_STEPS, NUMBER_MAX_EXPONENT } from './limits'
import type { Node } from './nodes'
import {
  checkList,
  checkListLength,
  checkStringLength,
  compareStrings,
  containsItem,
  fromContext,
  getKey,
  isList,
  isMapping,
  isNumber,
  stringLength,
  truthy,
  typeName,
  valuesEqual,
  type Mapping,
  type Value,
} from './values'

export function evaluate(tree: Node, context: Mapping, source = ''): Value {
  if (!isMapping(context)) throw new ExpressionError('expression context must be a mapping', { source })
  try {
    return new Evaluator(context, source).visit(tree)
  } catch (error) {
    if (error instanceof RangeError && !(error instanceof ExpressionError))
      throw new ExpressionLimitExceeded('expression too complex to evaluate', { source })
    throw error
  }
}

class Evaluator implements Runtime {
  private steps = 0

  constructor(
    private readonly context: Mapping,
    private readonly source: string,
  ) {}

  charge(steps: number): void {
    this.steps += steps
    if (this.steps > MAX_EVALUATION_STEPS) throw new ExpressionLimitExceeded(`expression took more than ${MAX_EVALUATION_STEPS} steps`)
  }

  variable(name: string): Value {
    return fromContext(getKey(this.context, name))
  }

  visit(node: Node): Value {
    let error: ExpressionError
    try {
      this.charge(1)
      return this.dispatch(node)
    } catch (caught) {
      if (caught instanceof ExpressionError) {
        if (caught.position !== null) throw caught
        error = caught
      } else if (caught instanceof DecimalOverflow) {
        error = new ExpressionLimitExceeded(`number too large (limit 1e${NUMBER_MAX_EXPONENT})`)
      } else if (caught instanceof DecimalInvalid) {
        error = new ExpressionError('result cannot be represented as a number')
      } else throw caught
    }
    // The innermost node that failed lends its position to the message.
    throw error.withMessage(`${error.message} at position ${node.position}`, node.position, this.source)
  }

  private dispatch(node: Node): Value {
    switch (node.type) {
      case 'literal':
        return node.value
      case 'list':
        return node.items.map((item) => this.visit(item))
      case 'field':
        return fromContext(getKey(this.context, node.name))
      case 'variable':
        return this.variable(node.name)
      case 'getattr':
        return this.member(this.visit(node.target), node.name)
      case 'index':
        return this.index(this.visit(node.target), this.visit(node.index))
      case 'unary': {
        const operand = this.visit(node.operand)
        if (node.operator === 'not') return !truthy(operand)
        if (operand === null) return null
        if (!isNumber(operand)) throw new ExpressionError(`cannot negate a ${typeName(operand)}`)
        return D.minus(operand)
      }
      case 'logical': {
        const left = truthy(this.visit(node.left))
        if (left === (node.operator === 'or')) return left // short-circuit
        return truthy(this.visit(node.right))
      }
      case 'binary': {
        const left = this.visit(node.left)
        const right = this.visit(node.right)
        return this.binary(node.operator, left, right)
      }
      case 'call': {
        const spec = FUNCTIONS[node.name]
        const problem = spec ? spec.arityProblem(node.args.length) : null
        if (!spec || problem) throw new ExpressionError(spec ? problem! : `unknown function '${node.name}'`)
        if (spec.lazy) return spec.implementation(this, ...node.args.map((arg) => () => this.visit(arg)))
        return spec.implementation(this, ...node.args.map((arg) => this.visit(arg)))
      }
    }
  }

  private member(value: Value, name: string): Value {
    if (isMapping(value)) return fromContext(getKey(value, name))
    if (!isList(value)) return null // a field of a scalar or of null is simply missing
    // Projection: `rows.qty` takes qty from every row; rows that are lists are flattened one level.
    this.charge(value.length)
    const result: Value[] = []
    for (const item of value) {
      if (isList(item)) {
        this.charge(item.length)
        for (const inner of item) result.push(scalarMember(inner, name))
      } else result.push(scalarMember(item, name))
      checkList(result)
    }
    return result
  }

  private index(value: Value, index: Value): Value {
    if (isList(value) && isNumber(index) && index.isInteger()) {
      const whole = D.toIntegralValue(index, 'half_even')
      if (whole.adjusted() > 15) return null
      const position = Number(whole.toFixed())
      if (-value.length <= position && position < value.length) return fromContext(value[position < 0 ? value.length + position : position])
      return null
    }
    if (isMapping(value) && typeof index === 'string') return fromContext(getKey(value, index))
    return null // out of range, wrong kind of index, or nothing to index: missing, like a field
  }

  private binary(operator: string, left: Value, right: Value): Value {
    switch (operator) {
      case '+':
        if (typeof left === 'string' && typeof right === 'string') {
          checkStringLength(stringLength(left) + stringLength(right))
          return left + right
        }
        if (isList(left) && isList(right)) {
          checkListLength(left.length + right.length)
          this.charge(left.length + right.length)
          return [...left, ...right]
        }
        return arithmetic('+', left, right, D.add)
      case '-':
        return arithmetic('-', left, right, D.subtract)
      case '*':
        return arithmetic('*', left, right, D.multiply)
      case '/':
        return arithmetic('/', left, right, D.divide)
      case '%':
        return arithmetic('%', left, right, D.remainder)
      case '==':
        return valuesEqual(left, right, (n) => this.charge(n))
      case '!=':
        return !valuesEqual(left, right, (n) => this.charge(n))
      case '<':
        return ordering('<', left, right, (order) => order < 0)
      case '<=':
        return ordering('<=', left, right, (order) => order <= 0)
      case '>':
        return ordering('>', left, right, (order) => order > 0)
      case '>=':
        return ordering('>=', left, right, (order) => order >= 0)
      case 'in':
        return containsItem(right, left, (n) => this.charge(n))
      case 'not in':
        return !containsItem(right, left, (n) => this.charge(n))
    }
    throw new ExpressionError(`unknown operator '${operator}'`)
  }
}

function scalarMember(item: unknown, name: string): Value {
  return isMapping(item) ? fromContext(getKey(item, name)) : null
}

function arithmetic(symbol: string, left: Value, right: Value, operation: (a: Decimal, b: Decimal) => Decimal): Value {
  if (left === null || right === null) return null // a blank operand gives a blank result
  if (!(isNumber(left) && isNumber(right)))
    throw new ExpressionError(`cannot apply '${symbol}' to ${typeName(left)} and ${typeName(right)}`)
  if ((symbol === '/' || symbol === '%') && right.isZero()) throw new ExpressionError('division by zero')
  return operation(left, right)
}

function ordering(symbol: string, left: Value, right: Value, test: (order: number) => boolean): boolean {
  if (left === null || right === null) return false
  if (isNumber(left) && isNumber(right)) return test(D.compare(left, right))
  if (typeof left === 'string' && typeof right === 'string') return test(compareStrings(left, right))
  throw new ExpressionError(`cannot compare ${typeName(left)} and ${typeName(right)} with '${symbol}'`)
}
