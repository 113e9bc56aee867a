/** The errors of the expression language, with the server's error codes (chalicelib/errors.py). */

export class ExpressionError extends Error {
  readonly code: string = 'invalid_expression'
  position: number | null
  source: string | null

  constructor(message: string, options: { position?: number | null; source?: string | null } = {}) {
    super(message)
    this.name = 'ExpressionError'
    this.position = options.position ?? null
    this.source = options.source ?? null
  }

  /** The same kind of error with a new message (the evaluator adds "at position N"). */
  withMessage(message: string, position: number | null, source: string | null): ExpressionError {
    const Kind = this.constructor as new (message: string, options: { position?: number | null; source?: string | null }) => ExpressionError
    return new Kind(message, { position, source })
  }
}

/** A hard limit (size, depth, nodes, steps, string/list length, number range) was crossed. */
export class ExpressionLimitExceeded extends ExpressionError {
  override readonly code: string = 'expression_limit_exceeded'

  constructor(message: string, options: { position?: number | null; source?: string | null } = {}) {
    super(message, options)
    this.name = 'ExpressionLimitExceeded'
  }
}

/**
 * The expression needs something only the server has (signature_valid checks the server's seal on a
 * signature; a pattern construct the browser's regex engine cannot express). The console cannot
 * decide such an expression: the server's answer is the one that counts.
 */
export class ServerOnlyExpression extends ExpressionError {
  override readonly code: string = 'server_only_expression'

  constructor(message: string, options: { position?: number | null; source?: string | null } = {}) {
    super(message, options)
    this.name = 'ServerOnlyExpression'
  }
}
