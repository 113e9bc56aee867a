/**
 * Hard limits of the expression language: the same numbers as chalicelib/expressions/limits.py, so an
 * expression the console accepts is one the server accepts, and one the server refuses fails here too.
 */

// Parse time.
export const MAX_SOURCE_LENGTH = 4_000 // characters (code points) of expression source
export const MAX_AST_DEPTH = 40 // nesting of the syntax tree
export const MAX_AST_NODES = 1_000 // nodes in the syntax tree
export const MAX_NUMBER_LITERAL_LENGTH = 40 // characters in one number literal (and a to_number() input)

// Evaluation time, per evaluate() call.
export const MAX_EVALUATION_STEPS = 20_000
export const MAX_STRING_LENGTH = 100_000
export const MAX_LIST_LENGTH = 10_000
export const MAX_VALUE_NESTING = 32
export const STRING_WORK_PER_STEP = 1_000 // characters a string function builds (pad_*, substring, replace) per step

// Regular expressions in matches().
export const MAX_PATTERN_LENGTH = 200
export const MAX_MATCH_SUBJECT_LENGTH = 10_000
export const MATCH_BACKTRACK_BUDGET = 100_000_000
export const MATCH_WORK_PER_STEP = 10_000

// Decimal arithmetic (see decimal.ts).
export const NUMBER_PRECISION = 28
export const NUMBER_MAX_EXPONENT = 999

// Parsed expressions kept by compile().
export const MAX_CACHED_EXPRESSIONS = 2_048
