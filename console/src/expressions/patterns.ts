/**
 * Regular expressions for matches(), with the server's rules (chalicelib/expressions/patterns.py):
 * patterns use Python `re` syntax and meaning, are screened for catastrophic backtracking the same
 * way, and have the same bounded worst-case cost.
 *
 * A browser regex is not a Python regex (\d, \w, \s, \b and `.` differ; `$` also matches before a
 * final newline in Python; Python has possessive repeats and atomic groups), so the pattern is parsed
 * here with a port of CPython's `re._parser` (same tree, same errors, same branch-to-set folding, which
 * the screening depends on) and the tree is then written out as an equivalent `u`-mode JS RegExp.
 * The few constructs JS cannot express - (?(1)yes|no), \N{NAME}, flags scoped to part of a pattern
 * that changes case sensitivity - raise ServerOnlyExpression: the console does not guess.
 */
import { ExpressionError, ExpressionLimitExceeded, ServerOnlyExpression } from './errors'
import { MATCH_BACKTRACK_BUDGET, MAX_MATCH_SUBJECT_LENGTH, MAX_PATTERN_LENGTH } from './limits'
import { stringLength } from './values'

// --- flags and codes (re._constants) ---------------------------------------------------------------
const FLAG = { i: 2, L: 4, m: 8, s: 16, u: 32, x: 64, a: 256, t: 1 } as const
const TYPE_FLAGS = FLAG.a | FLAG.L | FLAG.u
const GLOBAL_FLAGS = FLAG.t
const MAXREPEAT = 4294967295
const MAXGROUPS = 1073741823
const MAXWIDTH = 2 ** 64

type Category = 'digit' | 'not_digit' | 'space' | 'not_space' | 'word' | 'not_word'
type At = 'beginning' | 'beginning_string' | 'boundary' | 'non_boundary' | 'end' | 'end_string'
type SetItem =
  | { op: 'LITERAL'; c: number }
  | { op: 'RANGE'; lo: number; hi: number }
  | { op: 'CATEGORY'; cat: Category }
  | { op: 'NEGATE' }
type Repeat = 'MAX_REPEAT' | 'MIN_REPEAT' | 'POSSESSIVE_REPEAT'
type Item =
  | { op: 'LITERAL'; c: number }
  | { op: 'NOT_LITERAL'; c: number }
  | { op: 'ANY' }
  | { op: 'IN'; set: SetItem[] }
  | { op: 'AT'; at: At }
  | { op: 'BRANCH'; branches: Sub[] }
  | { op: 'SUBPATTERN'; group: number | null; add: number; del: number; p: Sub }
  | { op: Repeat; min: number; max: number; body: Sub }
  | { op: 'ASSERT' | 'ASSERT_NOT'; dir: 1 | -1; p: Sub }
  | { op: 'ATOMIC_GROUP'; p: Sub }
  | { op: 'GROUPREF'; group: number }
  | { op: 'GROUPREF_EXISTS'; group: number; yes: Sub; no: Sub | null }

class Sub {
  width: [number, number] | null = null
  constructor(
    readonly state: State,
    public data: Item[] = [],
  ) {}

  getwidth(): [number, number] {
    if (this.width) return this.width
    let lo = 0
    let hi = 0
    for (const item of this.data) {
      if (item.op === 'BRANCH') {
        let i = MAXWIDTH
        let j = 0
        for (const branch of item.branches) {
          const [l, h] = branch.getwidth()
          i = Math.min(i, l)
          j = Math.max(j, h)
        }
        lo += i
        hi += j
      } else if (item.op === 'ATOMIC_GROUP' || item.op === 'SUBPATTERN') {
        const [i, j] = item.p.getwidth()
        lo += i
        hi += j
      } else if (item.op === 'MAX_REPEAT' || item.op === 'MIN_REPEAT' || item.op === 'POSSESSIVE_REPEAT') {
        const [i, j] = item.body.getwidth()
        lo += i * item.min
        if (item.max === MAXREPEAT && j) hi = MAXWIDTH
        else hi += j * item.max
      } else if (item.op === 'ANY' || item.op === 'IN' || item.op === 'LITERAL' || item.op === 'NOT_LITERAL') {
        lo += 1
        hi += 1
      } else if (item.op === 'GROUPREF') {
        const [i, j] = this.state.groupwidths[item.group] ?? [0, 0]
        lo += i
        hi += j
      } else if (item.op === 'GROUPREF_EXISTS') {
        let [i, j] = item.yes.getwidth()
        if (item.no) {
          const [l, h] = item.no.getwidth()
          i = Math.min(i, l)
          j = Math.max(j, h)
        } else i = 0
        lo += i
        hi += j
      }
    }
    this.width = [Math.min(lo, MAXWIDTH), Math.min(hi, MAXWIDTH)]
    return this.width
  }
}

class State {
  flags = 0
  groupdict = new Map<string, number>()
  groupwidths: ([number, number] | null)[] = [null]
  lookbehindgroups: number | null = null
  grouprefpos = new Map<number, number>()
  get groups(): number {
    return this.groupwidths.length
  }
  opengroup(name: string | null): number {
    const gid = this.groups
    this.groupwidths.push(null)
    if (this.groups > MAXGROUPS) throw new PatternError('too many groups')
    if (name !== null) {
      const ogid = this.groupdict.get(name)
      if (ogid !== undefined) throw new PatternError(`redefinition of group name '${name}' as group ${gid}; was group ${ogid}`)
      this.groupdict.set(name, gid)
    }
    return gid
  }
  closegroup(gid: number, p: Sub): void {
    this.groupwidths[gid] = p.getwidth()
  }
  checkgroup(gid: number): boolean {
    return gid < this.groups && this.groupwidths[gid] !== null
  }
  checklookbehindgroup(gid: number, source: Tokenizer): void {
    if (this.lookbehindgroups !== null) {
      if (!this.checkgroup(gid)) throw source.error('cannot refer to an open group')
      if (gid >= this.lookbehindgroups) throw source.error('cannot refer to group defined in the same lookbehind subpattern')
    }
  }
}

/** re.error */
class PatternError extends Error {}

class Tokenizer {
  readonly chars: string[]
  index = 0
  next: string | null = null
  constructor(string: string) {
    this.chars = Array.from(string)
    this.advance()
  }
  private advance(): void {
    let index = this.index
    let char = this.chars[index]
    if (char === undefined) {
      this.next = null
      return
    }
    if (char === '\\') {
      index += 1
      const following = this.chars[index]
      if (following === undefined) throw new PatternError('bad escape (end of pattern)')
      char += following
    }
    this.index = index + 1
    this.next = char
  }
  match(char: string): boolean {
    if (char === this.next) {
      this.advance()
      return true
    }
    return false
  }
  get(): string | null {
    const current = this.next
    this.advance()
    return current
  }
  getwhile(n: number, charset: string): string {
    let result = ''
    for (let k = 0; k < n; k++) {
      const c = this.next
      if (c === null || c.length !== 1 || !charset.includes(c)) break
      result += c
      this.advance()
    }
    return result
  }
  getuntil(terminator: string, name: string): string {
    let result = ''
    for (;;) {
      const c = this.next
      this.advance()
      if (c === null) {
        if (!result) throw this.error('missing ' + name)
        throw this.error(`missing ${terminator}, unterminated name`)
      }
      if (c === terminator) {
        if (!result) throw this.error('missing ' + name)
        break
      }
      result += c
    }
    return result
  }
  tell(): number {
    return this.index - (this.next?.length ?? 0)
  }
  seek(index: number): void {
    this.index = index
    this.advance()
  }
  error(message: string): PatternError {
    return new PatternError(message)
  }
  checkgroupname(name: string): void {
    if (!/^[\p{L}\p{Nl}_][\p{L}\p{Nl}\p{Mn}\p{Mc}\p{Nd}\p{Pc}]*$/u.test(name)) throw this.error(`bad character in group name '${name}'`)
  }
}

const DIGITS = '0123456789'
const OCTDIGITS = '01234567'
const HEXDIGITS = '0123456789abcdefABCDEF'
const ASCIILETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'
const SPECIAL_CHARS = '.\\[{()*+?^$|'
const REPEAT_CHARS = '*+?{'
const WHITESPACE = ' \t\n\r\v\f'

const ESCAPES: Record<string, Item & { op: 'LITERAL' }> = {
  '\\a': { op: 'LITERAL', c: 7 },
  '\\b': { op: 'LITERAL', c: 8 },
  '\\f': { op: 'LITERAL', c: 12 },
  '\\n': { op: 'LITERAL', c: 10 },
  '\\r': { op: 'LITERAL', c: 13 },
  '\\t': { op: 'LITERAL', c: 9 },
  '\\v': { op: 'LITERAL', c: 11 },
  '\\\\': { op: 'LITERAL', c: 92 },
}
const CATEGORY_ESCAPES: Record<string, Category> = {
  '\\d': 'digit',
  '\\D': 'not_digit',
  '\\s': 'space',
  '\\S': 'not_space',
  '\\w': 'word',
  '\\W': 'not_word',
}
const AT_ESCAPES: Record<string, At> = { '\\A': 'beginning_string', '\\b': 'boundary', '\\B': 'non_boundary', '\\Z': 'end_string' }

const own = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k)
const ord = (c: string) => c.codePointAt(0)!

function hexEscape(source: Tokenizer, escape: string, width: number): number {
  const text = escape + source.getwhile(width, HEXDIGITS)
  if (text.length !== width + 2) throw source.error(`incomplete escape ${text}`)
  const c = parseInt(text.slice(2), 16)
  if (c > 0x10ffff) throw source.error(`bad escape ${text}`)
  return c
}

function classEscape(source: Tokenizer, escape: string): Item & { op: 'LITERAL' | 'IN' } {
  if (own(ESCAPES, escape)) return ESCAPES[escape]
  if (own(CATEGORY_ESCAPES, escape)) return { op: 'IN', set: [{ op: 'CATEGORY', cat: CATEGORY_ESCAPES[escape] }] }
  const c = escape.slice(1, 2)
  if (c === 'x') return { op: 'LITERAL', c: hexEscape(source, escape, 2) }
  if (c === 'u') return { op: 'LITERAL', c: hexEscape(source, escape, 4) }
  if (c === 'U') return { op: 'LITERAL', c: hexEscape(source, escape, 8) }
  if (c === 'N') throw new ServerOnlyExpression('matches(): \\N{...} escapes are checked by the server only')
  if (OCTDIGITS.includes(c)) {
    const text = escape + source.getwhile(2, OCTDIGITS)
    const value = parseInt(text.slice(1), 8)
    if (value > 0o377) throw source.error(`octal escape value ${text} outside of range 0-0o377`)
    return { op: 'LITERAL', c: value }
  }
  if (DIGITS.includes(c)) throw source.error(`bad escape ${escape}`)
  if (Array.from(escape).length === 2) {
    if (ASCIILETTERS.includes(c)) throw source.error(`bad escape ${escape}`)
    return { op: 'LITERAL', c: ord(Array.from(escape)[1]) }
  }
  throw source.error(`bad escape ${escape}`)
}

function escapeItem(source: Tokenizer, escape: string, state: State): Item {
  if (own(AT_ESCAPES, escape)) return { op: 'AT', at: AT_ESCAPES[escape] }
  if (own(CATEGORY_ESCAPES, escape)) return { op: 'IN', set: [{ op: 'CATEGORY', cat: CATEGORY_ESCAPES[escape] }] }
  if (own(ESCAPES, escape)) return ESCAPES[escape]
  const c = escape.slice(1, 2)
  if (c === 'x') return { op: 'LITERAL', c: hexEscape(source, escape, 2) }
  if (c === 'u') return { op: 'LITERAL', c: hexEscape(source, escape, 4) }
  if (c === 'U') return { op: 'LITERAL', c: hexEscape(source, escape, 8) }
  if (c === 'N') throw new ServerOnlyExpression('matches(): \\N{...} escapes are checked by the server only')
  if (c === '0') {
    const text = escape + source.getwhile(2, OCTDIGITS)
    return { op: 'LITERAL', c: parseInt(text.slice(1), 8) }
  }
  if (DIGITS.includes(c)) {
    let text = escape
    if (source.next !== null && DIGITS.includes(source.next) && source.next.length === 1) {
      text += source.get()
      if (OCTDIGITS.includes(text[1]) && OCTDIGITS.includes(text[2]) && source.next !== null && source.next.length === 1 && OCTDIGITS.includes(source.next)) {
        text += source.get()
        const value = parseInt(text.slice(1), 8)
        if (value > 0o377) throw source.error(`octal escape value ${text} outside of range 0-0o377`)
        return { op: 'LITERAL', c: value }
      }
    }
    const group = Number(text.slice(1))
    if (group < state.groups) {
      if (!state.checkgroup(group)) throw source.error('cannot refer to an open group')
      state.checklookbehindgroup(group, source)
      return { op: 'GROUPREF', group }
    }
    throw source.error(`invalid group reference ${group}`)
  }
  if (Array.from(escape).length === 2) {
    if (ASCIILETTERS.includes(c)) throw source.error(`bad escape ${escape}`)
    return { op: 'LITERAL', c: ord(Array.from(escape)[1]) }
  }
  throw source.error(`bad escape ${escape}`)
}

/** Python compares parse items by value, except those holding a SubPattern (compared by identity). */
function sameItem(a: Item, b: Item): boolean {
  if (a === b) return true
  if (a.op !== b.op) return false
  switch (a.op) {
    case 'LITERAL':
    case 'NOT_LITERAL':
    case 'ANY':
    case 'IN':
    case 'AT':
    case 'GROUPREF':
      return JSON.stringify(a) === JSON.stringify(b)
    default:
      return false
  }
}

function uniqSet(items: SetItem[]): SetItem[] {
  const seen = new Set<string>()
  return items.filter((item) => {
    const key = JSON.stringify(item)
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}

function parseSub(source: Tokenizer, state: State, verbose: boolean, nested: number): Sub {
  const items: Sub[] = []
  for (;;) {
    items.push(parseSeq(source, state, verbose, nested + 1, !nested && !items.length))
    if (!source.match('|')) break
    if (!nested) verbose = Boolean(state.flags & FLAG.x)
  }
  if (items.length === 1) return items[0]
  const subpattern = new Sub(state)
  // check if all items share a common prefix
  for (;;) {
    let prefix: Item | null = null
    let common = true
    for (const item of items) {
      if (!item.data.length) {
        common = false
        break
      }
      if (prefix === null) prefix = item.data[0]
      else if (!sameItem(item.data[0], prefix)) {
        common = false
        break
      }
    }
    if (!common || prefix === null) break
    for (const item of items) item.data.shift()
    subpattern.data.push(prefix)
  }
  // check if the branch can be replaced by a character set
  const set: SetItem[] = []
  let allSet = true
  for (const item of items) {
    if (item.data.length !== 1) {
      allSet = false
      break
    }
    const only = item.data[0]
    if (only.op === 'LITERAL') set.push({ op: 'LITERAL', c: only.c })
    else if (only.op === 'IN' && only.set[0].op !== 'NEGATE') set.push(...only.set)
    else {
      allSet = false
      break
    }
  }
  if (allSet) {
    subpattern.data.push({ op: 'IN', set: uniqSet(set) })
    return subpattern
  }
  subpattern.data.push({ op: 'BRANCH', branches: items })
  return subpattern
}

function parseFlags(source: Tokenizer, state: State, first: string): [number, number] | null {
  let char: string | null = first
  let add = 0
  let del = 0
  if (char !== '-') {
    for (;;) {
      const flag = FLAG[char as keyof typeof FLAG]
      if (char === 'L') throw source.error("bad inline flags: cannot use 'L' flag with a str pattern")
      add |= flag
      if (flag & TYPE_FLAGS && (add & TYPE_FLAGS) !== flag) throw source.error("bad inline flags: flags 'a', 'u' and 'L' are incompatible")
      char = source.get()
      if (char === null) throw source.error('missing -, : or )')
      if (')-:'.includes(char)) break
      if (!own(FLAG, char)) throw source.error(/\p{L}/u.test(char) ? 'unknown flag' : 'missing -, : or )')
    }
  }
  if (char === ')') {
    state.flags |= add
    return null
  }
  if (add & GLOBAL_FLAGS) throw source.error('bad inline flags: cannot turn on global flag')
  if (char === '-') {
    char = source.get()
    if (char === null) throw source.error('missing flag')
    if (!own(FLAG, char)) throw source.error(/\p{L}/u.test(char) ? 'unknown flag' : 'missing flag')
    for (;;) {
      const flag = FLAG[char as keyof typeof FLAG]
      if (flag & TYPE_FLAGS) throw source.error("bad inline flags: cannot turn off flags 'a', 'u' and 'L'")
      del |= flag
      char = source.get()
      if (char === null) throw source.error('missing :')
      if (char === ':') break
      if (!own(FLAG, char)) throw source.error(/\p{L}/u.test(char) ? 'unknown flag' : 'missing :')
    }
  }
  if (del & GLOBAL_FLAGS) throw source.error('bad inline flags: cannot turn off global flag')
  if (add & del) throw source.error('bad inline flags: flag turned on and off')
  return [add, del]
}

function parseSeq(source: Tokenizer, state: State, verbose: boolean, nested: number, first = false): Sub {
  const subpattern = new Sub(state)
  const data = subpattern.data
  for (;;) {
    const current = source.next
    if (current === null) break
    if (current === '|' || current === ')') break
    source.get()
    if (verbose) {
      if (WHITESPACE.includes(current) && current.length === 1) continue
      if (current === '#') {
        for (;;) {
          const c = source.get()
          if (c === null || c === '\n') break
        }
        continue
      }
    }
    if (current[0] === '\\') {
      data.push(escapeItem(source, current, state))
    } else if (!SPECIAL_CHARS.includes(current)) {
      data.push({ op: 'LITERAL', c: ord(current) })
    } else if (current === '[') {
      let set: SetItem[] = []
      const negate = source.match('^')
      for (;;) {
        const item = source.get()
        if (item === null) throw source.error('unterminated character set')
        if (item === ']' && set.length) break
        let code1: Item & { op: 'LITERAL' | 'IN' }
        if (item[0] === '\\') code1 = classEscape(source, item)
        else code1 = { op: 'LITERAL', c: ord(item) }
        if (source.match('-')) {
          const that = source.get()
          if (that === null) throw source.error('unterminated character set')
          if (that === ']') {
            set.push(code1.op === 'IN' ? code1.set[0] : code1)
            set.push({ op: 'LITERAL', c: 45 })
            break
          }
          const code2 = that[0] === '\\' ? classEscape(source, that) : ({ op: 'LITERAL', c: ord(that) } as const)
          if (code1.op !== 'LITERAL' || code2.op !== 'LITERAL') throw source.error(`bad character range ${item}-${that}`)
          if (code2.c < code1.c) throw source.error(`bad character range ${item}-${that}`)
          set.push({ op: 'RANGE', lo: code1.c, hi: code2.c })
        } else {
          set.push(code1.op === 'IN' ? code1.set[0] : code1)
        }
      }
      set = uniqSet(set)
      if (set.length === 1 && set[0].op === 'LITERAL') {
        data.push(negate ? { op: 'NOT_LITERAL', c: set[0].c } : { op: 'LITERAL', c: set[0].c })
      } else {
        if (negate) set.unshift({ op: 'NEGATE' })
        data.push({ op: 'IN', set })
      }
    } else if (REPEAT_CHARS.includes(current)) {
      const here = source.tell()
      let min: number
      let max: number
      if (current === '?') [min, max] = [0, 1]
      else if (current === '*') [min, max] = [0, MAXREPEAT]
      else if (current === '+') [min, max] = [1, MAXREPEAT]
      else {
        if (source.next === '}') {
          data.push({ op: 'LITERAL', c: ord(current) })
          continue
        }
        ;[min, max] = [0, MAXREPEAT]
        let lo = ''
        let hi = ''
        while (source.next !== null && source.next.length === 1 && DIGITS.includes(source.next)) lo += source.get()
        if (source.match(',')) {
          while (source.next !== null && source.next.length === 1 && DIGITS.includes(source.next)) hi += source.get()
        } else hi = lo
        if (!source.match('}')) {
          data.push({ op: 'LITERAL', c: ord(current) })
          source.seek(here)
          continue
        }
        if (lo) {
          min = Number(lo)
          if (min >= MAXREPEAT) throw new PatternError('the repetition number is too large')
        }
        if (hi) {
          max = Number(hi)
          if (max >= MAXREPEAT) throw new PatternError('the repetition number is too large')
          if (max < min) throw source.error('min repeat greater than max repeat')
        }
      }
      const last = data[data.length - 1]
      if (!last || last.op === 'AT') throw source.error('nothing to repeat')
      if (last.op === 'MAX_REPEAT' || last.op === 'MIN_REPEAT' || last.op === 'POSSESSIVE_REPEAT') throw source.error('multiple repeat')
      let body = new Sub(state, [last])
      if (last.op === 'SUBPATTERN' && last.group === null && !last.add && !last.del) body = last.p
      const op: Repeat = source.match('?') ? 'MIN_REPEAT' : source.match('+') ? 'POSSESSIVE_REPEAT' : 'MAX_REPEAT'
      data[data.length - 1] = { op, min, max, body }
    } else if (current === '.') {
      data.push({ op: 'ANY' })
    } else if (current === '(') {
      let capture = true
      let atomic = false
      let name: string | null = null
      let add = 0
      let del = 0
      let handled = false
      if (source.match('?')) {
        const char = source.get()
        if (char === null) throw source.error('unexpected end of pattern')
        if (char === 'P') {
          if (source.match('<')) {
            name = source.getuntil('>', 'group name')
            source.checkgroupname(name)
          } else if (source.match('=')) {
            const ref = source.getuntil(')', 'group name')
            source.checkgroupname(ref)
            const gid = state.groupdict.get(ref)
            if (gid === undefined) throw source.error(`unknown group name '${ref}'`)
            if (!state.checkgroup(gid)) throw source.error('cannot refer to an open group')
            state.checklookbehindgroup(gid, source)
            data.push({ op: 'GROUPREF', group: gid })
            continue
          } else {
            const next = source.get()
            if (next === null) throw source.error('unexpected end of pattern')
            throw source.error('unknown extension ?P' + next)
          }
        } else if (char === ':') {
          capture = false
        } else if (char === '#') {
          for (;;) {
            if (source.next === null) throw source.error('missing ), unterminated comment')
            if (source.get() === ')') break
          }
          continue
        } else if ('=!<'.includes(char)) {
          let kind = char
          let dir: 1 | -1 = 1
          let outerLookbehind: number | null = null
          if (kind === '<') {
            const next = source.get()
            if (next === null) throw source.error('unexpected end of pattern')
            if (!'=!'.includes(next)) throw source.error('unknown extension ?<' + next)
            kind = next
            dir = -1
            outerLookbehind = state.lookbehindgroups
            if (outerLookbehind === null) state.lookbehindgroups = state.groups
          }
          const p = parseSub(source, state, verbose, nested + 1)
          if (dir < 0 && outerLookbehind === null) state.lookbehindgroups = null
          if (!source.match(')')) throw source.error('missing ), unterminated subpattern')
          data.push({ op: kind === '=' ? 'ASSERT' : 'ASSERT_NOT', dir, p })
          handled = true
        } else if (char === '(') {
          const condname = source.getuntil(')', 'group name')
          let condgroup: number
          if (/^[\p{L}\p{Nl}_][\p{L}\p{Nl}\p{Mn}\p{Mc}\p{Nd}\p{Pc}]*$/u.test(condname)) {
            const gid = state.groupdict.get(condname)
            if (gid === undefined) throw source.error(`unknown group name '${condname}'`)
            condgroup = gid
          } else {
            if (!/^[0-9]+$/.test(condname)) throw source.error(`bad character in group name '${condname}'`)
            condgroup = Number(condname)
            if (!condgroup) throw source.error('bad group number')
            if (condgroup >= MAXGROUPS) throw source.error(`invalid group reference ${condgroup}`)
            if (!state.grouprefpos.has(condgroup)) state.grouprefpos.set(condgroup, source.tell())
          }
          state.checklookbehindgroup(condgroup, source)
          const yes = parseSeq(source, state, verbose, nested + 1)
          let no: Sub | null = null
          if (source.match('|')) {
            no = parseSeq(source, state, verbose, nested + 1)
            if (source.next === '|') throw source.error('conditional backref with more than two branches')
          }
          if (!source.match(')')) throw source.error('missing ), unterminated subpattern')
          data.push({ op: 'GROUPREF_EXISTS', group: condgroup, yes, no })
          continue
        } else if (char === '>') {
          capture = false
          atomic = true
        } else if (own(FLAG, char) || char === '-') {
          const flags = parseFlags(source, state, char)
          if (flags === null) {
            if (!first || data.length) throw source.error('global flags not at the start of the expression')
            verbose = Boolean(state.flags & FLAG.x)
            continue
          }
          ;[add, del] = flags
          capture = false
        } else {
          throw source.error('unknown extension ?' + char)
        }
      }
      if (handled) continue
      const group = capture ? state.opengroup(name) : null
      const subVerbose = (verbose || Boolean(add & FLAG.x)) && !(del & FLAG.x)
      const p = parseSub(source, state, subVerbose, nested + 1)
      if (!source.match(')')) throw source.error('missing ), unterminated subpattern')
      if (group !== null) state.closegroup(group, p)
      if (atomic) data.push({ op: 'ATOMIC_GROUP', p })
      else data.push({ op: 'SUBPATTERN', group, add, del, p })
    } else if (current === '^') {
      data.push({ op: 'AT', at: 'beginning' })
    } else if (current === '$') {
      data.push({ op: 'AT', at: 'end' })
    }
  }
  // unpack non-capturing groups
  for (let i = data.length - 1; i >= 0; i--) {
    const item = data[i]
    if (item.op === 'SUBPATTERN' && item.group === null && !item.add && !item.del) data.splice(i, 1, ...item.p.data)
  }
  return subpattern
}

function parsePattern(pattern: string): Sub {
  const source = new Tokenizer(pattern)
  const state = new State()
  const p = parseSub(source, state, false, 0)
  if (state.flags & FLAG.a && state.flags & FLAG.u) throw new PatternError('ASCII and UNICODE flags are incompatible')
  if (source.next !== null) throw source.error('unbalanced parenthesis')
  for (const g of state.grouprefpos.keys()) if (g >= state.groups) throw new PatternError(`invalid group reference ${g}`)
  checkLookbehinds(p)
  return p
}

/** re._compiler: a look-behind must have a fixed width. */
function checkLookbehinds(tree: Sub): void {
  const pending: Sub[] = [tree]
  while (pending.length) {
    for (const item of pending.pop()!.data) {
      if ((item.op === 'ASSERT' || item.op === 'ASSERT_NOT') && item.dir < 0) {
        const [lo, hi] = item.p.getwidth()
        if (lo !== hi) throw new PatternError('look-behind requires fixed-width pattern')
      }
      pending.push(...subsOf(item))
    }
  }
}

function subsOf(item: Item): Sub[] {
  switch (item.op) {
    case 'BRANCH':
      return item.branches
    case 'SUBPATTERN':
    case 'ASSERT':
    case 'ASSERT_NOT':
    case 'ATOMIC_GROUP':
      return [item.p]
    case 'MAX_REPEAT':
    case 'MIN_REPEAT':
    case 'POSSESSIVE_REPEAT':
      return [item.body]
    case 'GROUPREF_EXISTS':
      return item.no ? [item.yes, item.no] : [item.yes]
    default:
      return []
  }
}

/** Spans of the variable repetitions, or null when one sits inside another repetition. */
function variableRepeatSpans(tree: Sub): number[] | null {
  const spans: number[] = []
  const pending: [Item[], boolean][] = [[tree.data, false]]
  while (pending.length) {
    const [items, repeated] = pending.pop()!
    for (const item of items) {
      if (item.op === 'MAX_REPEAT' || item.op === 'MIN_REPEAT' || item.op === 'POSSESSIVE_REPEAT') {
        if (item.max !== item.min) {
          if (repeated) return null
          if (item.op !== 'POSSESSIVE_REPEAT') spans.push(item.max - item.min) // possessive repeats never give back
        }
        pending.push([item.body.data, repeated || item.max > 1])
      } else if (item.op === 'BRANCH') {
        if (repeated) return null
        for (const branch of item.branches) pending.push([branch.data, repeated])
      } else if (item.op === 'SUBPATTERN' || item.op === 'ASSERT' || item.op === 'ASSERT_NOT' || item.op === 'ATOMIC_GROUP') {
        pending.push([item.p.data, repeated])
      } else if (item.op === 'GROUPREF_EXISTS') {
        pending.push([item.yes.data, repeated])
        if (item.no) pending.push([item.no.data, repeated])
      }
    }
  }
  return spans
}

// --- writing the tree as a JS RegExp ------------------------------------------------------------------

const PY_SPACE = '\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000'
const CLASS_BODIES: Record<Category, [unicode: string, ascii: string]> = {
  digit: ['\\p{Nd}', '0-9'],
  space: [PY_SPACE, ' \\t\\n\\r\\f\\v'],
  word: ['\\p{L}\\p{N}_', 'A-Za-z0-9_'],
  not_digit: ['\\p{Nd}', '0-9'],
  not_space: [PY_SPACE, ' \\t\\n\\r\\f\\v'],
  not_word: ['\\p{L}\\p{N}_', 'A-Za-z0-9_'],
}

const esc = (c: number) => `\\u{${c.toString(16)}}`

class Writer {
  private jsGroups = 0
  private readonly groupMap = new Map<number, number>()
  ignoreCase: boolean | null = null // null until a case-sensitive part is written

  private caseSensitive(flags: number): void {
    const on = Boolean(flags & FLAG.i)
    if (on && flags & FLAG.a) throw new ServerOnlyExpression('matches(): ASCII-only case-insensitive patterns are checked by the server only')
    if (this.ignoreCase === null) this.ignoreCase = on
    else if (this.ignoreCase !== on)
      throw new ServerOnlyExpression('matches(): a pattern that is case-insensitive in part only is checked by the server only')
  }

  private word(flags: number): string {
    return `[${CLASS_BODIES.word[flags & FLAG.a ? 1 : 0]}]`
  }

  sub(p: Sub, flags: number): string {
    return p.data.map((item) => this.item(item, flags)).join('')
  }

  private set(items: SetItem[], flags: number): string {
    const negate = items[0]?.op === 'NEGATE'
    const ascii = flags & FLAG.a ? 1 : 0
    let positive = ''
    const negatedCategories: string[] = []
    for (const item of negate ? items.slice(1) : items) {
      if (item.op === 'LITERAL') positive += esc(item.c)
      else if (item.op === 'RANGE') positive += `${esc(item.lo)}-${esc(item.hi)}`
      else if (item.op === 'CATEGORY') {
        if (item.cat.startsWith('not_')) negatedCategories.push(`[^${CLASS_BODIES[item.cat][ascii]}]`)
        else positive += CLASS_BODIES[item.cat][ascii]
      }
    }
    if (!negatedCategories.length) return negate ? `[^${positive}]` : `[${positive}]`
    const union = `(?:${[...(positive ? [`[${positive}]`] : []), ...negatedCategories].join('|')})`
    return negate ? `(?!${union})[\\s\\S]` : union
  }

  private item(item: Item, flags: number): string {
    switch (item.op) {
      case 'LITERAL':
        this.caseSensitive(flags)
        return esc(item.c)
      case 'NOT_LITERAL':
        this.caseSensitive(flags)
        return `[^${esc(item.c)}]`
      case 'ANY':
        return flags & FLAG.s ? '[\\s\\S]' : '[^\\n]'
      case 'IN':
        this.caseSensitive(flags)
        return this.set(item.set, flags)
      case 'AT': {
        const multiline = flags & FLAG.m
        const w = this.word(flags)
        switch (item.at) {
          case 'beginning':
            return multiline ? '(?<![^\\n])' : '(?<![\\s\\S])'
          case 'beginning_string':
            return '(?<![\\s\\S])'
          case 'end':
            return multiline ? '(?=\\n|(?![\\s\\S]))' : '(?=\\n?(?![\\s\\S]))'
          case 'end_string':
            return '(?![\\s\\S])'
          case 'boundary':
            return `(?:(?<=${w})(?!${w})|(?<!${w})(?=${w}))`
          case 'non_boundary':
            return `(?:(?<=${w})(?=${w})|(?<!${w})(?!${w})(?:(?<=[\\s\\S])|(?=[\\s\\S])))`
        }
        break
      }
      case 'BRANCH':
        return `(?:${item.branches.map((b) => this.sub(b, flags)).join('|')})`
      case 'SUBPATTERN': {
        const inner = (flags | item.add) & ~item.del
        if (item.group === null) return `(?:${this.sub(item.p, inner)})`
        const index = ++this.jsGroups
        this.groupMap.set(item.group, index)
        return `(${this.sub(item.p, inner)})`
      }
      case 'MAX_REPEAT':
      case 'MIN_REPEAT':
      case 'POSSESSIVE_REPEAT': {
        const quantifier =
          item.max === MAXREPEAT
            ? item.min === 0
              ? '*'
              : item.min === 1
                ? '+'
                : `{${item.min},}`
            : item.min === item.max
              ? `{${item.min}}`
              : `{${item.min},${item.max}}`
        if (item.op === 'POSSESSIVE_REPEAT') {
          const index = ++this.jsGroups // (?=(X*))\k: JS has no possessive repeat; this never gives back
          const body = `(?:${this.sub(item.body, flags)})`
          return `(?=(${body}${quantifier}))\\${index}`
        }
        return `(?:${this.sub(item.body, flags)})${quantifier}${item.op === 'MIN_REPEAT' ? '?' : ''}`
      }
      case 'ASSERT':
      case 'ASSERT_NOT': {
        const kind = (item.dir < 0 ? '<' : '') + (item.op === 'ASSERT' ? '=' : '!')
        return `(?${kind}${this.sub(item.p, flags)})`
      }
      case 'ATOMIC_GROUP': {
        const index = ++this.jsGroups
        return `(?=(${this.sub(item.p, flags)}))\\${index}`
      }
      case 'GROUPREF': {
        this.caseSensitive(flags)
        const index = this.groupMap.get(item.group)
        if (index === undefined) throw new ServerOnlyExpression('matches(): this back-reference is checked by the server only')
        return `(?:\\${index})`
      }
      case 'GROUPREF_EXISTS':
        throw new ServerOnlyExpression('matches(): conditional groups (?(n)...) are checked by the server only')
    }
    return ''
  }
}

// --- the screened pattern -----------------------------------------------------------------------------

export class ScreenedPattern {
  constructor(
    private readonly regex: RegExp,
    readonly spans: readonly number[],
  ) {}

  /** Backtracking steps a match on text of this length can take at worst (capped just above the budget). */
  worstCase(length: number): number {
    let cost = 1
    for (const span of this.spans) {
      cost *= Math.max(1, Math.min(length, span))
      if (cost > MATCH_BACKTRACK_BUDGET) return MATCH_BACKTRACK_BUDGET + 1
    }
    return cost
  }

  fullmatch(text: string): boolean {
    const length = stringLength(text)
    if (length > MAX_MATCH_SUBJECT_LENGTH)
      throw new ExpressionLimitExceeded(`matches(): text longer than ${MAX_MATCH_SUBJECT_LENGTH} characters`)
    if (this.worstCase(length) > MATCH_BACKTRACK_BUDGET)
      throw new ExpressionLimitExceeded(
        `matches(): text of ${length} characters is too long for a pattern with ${this.spans.length} variable repetitions; simplify the pattern`,
      )
    return this.regex.test(text)
  }
}

const CACHE = new Map<string, ScreenedPattern>()
const MAX_CACHED_PATTERNS = 256

export function compilePattern(pattern: unknown): ScreenedPattern {
  if (typeof pattern !== 'string') throw new ExpressionError('matches() expects the pattern to be a string')
  if (stringLength(pattern) > MAX_PATTERN_LENGTH)
    throw new ExpressionLimitExceeded(`matches(): pattern longer than ${MAX_PATTERN_LENGTH} characters`)
  const cached = CACHE.get(pattern)
  if (cached) return cached
  let tree: Sub
  try {
    tree = parsePattern(pattern)
  } catch (error) {
    if (error instanceof PatternError) throw new ExpressionError(`matches(): invalid pattern: ${error.message}`)
    if (error instanceof RangeError) throw new ExpressionError('matches(): invalid pattern: too complex')
    throw error
  }
  const spans = variableRepeatSpans(tree)
  if (spans === null)
    throw new ExpressionError(
      'matches(): pattern nests a repetition or alternation inside another repetition, which can take exponential time; simplify it (e.g. (a+)+ -> a+)',
    )
  const writer = new Writer()
  const body = writer.sub(tree, tree.state.flags)
  let regex: RegExp
  try {
    regex = new RegExp(`^(?:${body})$`, writer.ignoreCase ? 'ui' : 'u')
  } catch {
    throw new ServerOnlyExpression('matches(): this pattern is checked by the server only')
  }
  const screened = new ScreenedPattern(regex, spans)
  if (CACHE.size >= MAX_CACHED_PATTERNS) CACHE.delete(CACHE.keys().next().value as string)
  CACHE.set(pattern, screened)
  return screened
}
