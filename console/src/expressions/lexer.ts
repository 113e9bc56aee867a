/**
 * Expression source -> a flat list of tokens (chalicelib/expressions/lexer.py): one forward scan, no
 * backtracking. Works on code points, so positions and lengths count characters as Python does.
 */
import type { Decimal } from './decimal'
import { ExpressionError, ExpressionLimitExceeded } from './errors'
import { MAX_NUMBER_LITERAL_LENGTH, MAX_SOURCE_LENGTH } from './limits'
import { number } from './values'

export const KEYWORDS = new Set(['and', 'or', 'not', 'in', 'true', 'false', 'null'])

// Longest spellings first so '<=' wins over '<'.
const OPERATORS = ['==', '!=', '<=', '>=', '&&', '||', '<', '>', '+', '-', '*', '/', '%', '(', ')', '[', ']', ',', '.', '!']
const ALIASES: Record<string, string> = { '&&': 'and', '||': 'or', '!': 'not' }
const ESCAPES: Record<string, string> = { '\\': '\\', "'": "'", '"': '"', n: '\n', t: '\t' }

export type TokenKind = 'number' | 'string' | 'name' | 'variable' | 'keyword' | 'op' | 'eof'
export interface Token {
  kind: TokenKind
  value: Decimal | string | null
  position: number
}

const isIdentifierStart = (c: string | undefined) => c !== undefined && /^[A-Za-z_]$/.test(c)
const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9' && c.length === 1
const isIdentifierChar = (c: string | undefined) => isIdentifierStart(c) || isDigit(c)

export function syntaxError(message: string, position: number, source: string): ExpressionError {
  return new ExpressionError(`${message} at position ${position}`, { position, source })
}

export function pyRepr(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'"
  const body = text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\t/g, '\\t').replace(/\r/g, '\\r')
  return quote + (quote === "'" ? body.replace(/'/g, "\\'") : body) + quote
}

export function tokenize(source: string): Token[] {
  const chars = Array.from(source)
  if (chars.length > MAX_SOURCE_LENGTH)
    throw new ExpressionLimitExceeded(`expression is ${chars.length} characters long; the limit is ${MAX_SOURCE_LENGTH}`, { source })
  const tokens: Token[] = []
  const end = chars.length
  let pos = 0
  const startsWith = (op: string, at: number) => {
    for (let i = 0; i < op.length; i++) if (chars[at + i] !== op[i]) return false
    return true
  }
  while (pos < end) {
    const char = chars[pos]
    if (char === ' ' || char === '\t' || char === '\r' || char === '\n') {
      pos += 1
    } else if (isDigit(char)) {
      pos = readNumber(chars, source, pos, tokens)
    } else if (isIdentifierStart(char)) {
      const stop = scanIdentifier(chars, pos)
      const word = chars.slice(pos, stop).join('')
      tokens.push({ kind: KEYWORDS.has(word) ? 'keyword' : 'name', value: word, position: pos })
      pos = stop
    } else if (char === '$') {
      const stop = scanIdentifier(chars, pos + 1)
      if (stop === pos + 1) throw syntaxError("'$' must be followed by a variable name", pos, source)
      tokens.push({ kind: 'variable', value: chars.slice(pos, stop).join(''), position: pos })
      pos = stop
    } else if (char === "'" || char === '"') {
      pos = readString(chars, source, pos, tokens)
    } else {
      const operator = OPERATORS.find((op) => startsWith(op, pos))
      if (operator === undefined) {
        const hint = char === '=' ? " (use '==' to compare)" : ''
        throw syntaxError(`unexpected character ${pyRepr(char)}${hint}`, pos, source)
      }
      if (operator in ALIASES) tokens.push({ kind: 'keyword', value: ALIASES[operator], position: pos })
      else tokens.push({ kind: 'op', value: operator, position: pos })
      pos += operator.length
    }
  }
  tokens.push({ kind: 'eof', value: null, position: end })
  return tokens
}

function scanIdentifier(chars: string[], start: number): number {
  let pos = start
  if (pos >= chars.length || !isIdentifierStart(chars[pos])) return pos
  while (pos < chars.length && isIdentifierChar(chars[pos])) pos += 1
  return pos
}

function scanDigits(chars: string[], start: number): number {
  let pos = start
  while (pos < chars.length && isDigit(chars[pos])) pos += 1
  return pos
}

function readNumber(chars: string[], source: string, start: number, tokens: Token[]): number {
  let pos = scanDigits(chars, start)
  // A '.' is a decimal point only when a digit follows; otherwise it is member access.
  if (pos + 1 < chars.length && chars[pos] === '.' && isDigit(chars[pos + 1])) pos = scanDigits(chars, pos + 1)
  if (pos < chars.length && isIdentifierStart(chars[pos]))
    throw syntaxError(`invalid number ${pyRepr(chars.slice(start, pos + 1).join(''))}`, start, source)
  const text = chars.slice(start, pos).join('')
  if (text.length > MAX_NUMBER_LITERAL_LENGTH)
    throw new ExpressionLimitExceeded(`number literal longer than ${MAX_NUMBER_LITERAL_LENGTH} characters at position ${start}`, {
      position: start,
      source,
    })
  tokens.push({ kind: 'number', value: number(text), position: start })
  return pos
}

function readString(chars: string[], source: string, start: number, tokens: Token[]): number {
  const quote = chars[start]
  const parts: string[] = []
  let pos = start + 1
  while (pos < chars.length) {
    const char = chars[pos]
    if (char === quote) {
      tokens.push({ kind: 'string', value: parts.join(''), position: start })
      return pos + 1
    }
    if (char === '\\' && pos + 1 < chars.length) {
      const escaped = chars[pos + 1]
      // Unknown escapes stay verbatim so regex patterns like '\d{4}' need no doubling.
      parts.push(Object.prototype.hasOwnProperty.call(ESCAPES, escaped) ? ESCAPES[escaped] : '\\' + escaped)
      pos += 2
    } else {
      parts.push(char)
      pos += 1
    }
  }
  throw syntaxError('unterminated string', start, source)
}
