/**
 * The platform's expression language in the browser: the same syntax, values, functions, limits and
 * errors as the server's (chalicelib/expressions), so the console can show what the server will
 * decide - visibility, required and read-only rules, computed fields - before a record is saved.
 * Nothing here uses eval or new Function: source is lexed, parsed into a tree and walked.
 *
 *     const expression = compile('sum(parts_used.qty) > 2')
 *     expression.evaluate({ parts_used: [{ qty: 2 }, { qty: 1 }] }) // true
 *     expression.fieldRoots // Set { 'parts_used' }
 *
 * Numbers come back as Decimal (./decimal); use toPlain() for JSON-like values.
 */
export { compile, Expression, toPlain, DEFAULT_VARIABLES } from './expression'
export { Decimal } from './decimal'
export { ExpressionError, ExpressionLimitExceeded, ServerOnlyExpression } from './errors'
export type { Value, Mapping } from './values'
export { conditions, type ConditionResult, type ConditionOptions } from './conditions'
