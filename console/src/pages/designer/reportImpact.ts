// The reports whose numbers a migration would rebuild, as a migration job lists them (the server's
// chalicelib/reports/impact.py): per report what it reads that the move changes and how many walked
// records would be counted elsewhere. Turned into sentences of the console's language here.
import type { TFunction } from 'i18next'

export interface ReportWhy {
  input: string
  kind: 'state' | 'value' | 'removed' | 'retyped' | 'state_named' | string
  read_by: string[]
  records: number
  states?: Record<string, Record<string, number>>
  types?: { from?: string | null; to?: string | null }
  names?: string[]
}

export interface ReportMove { from: unknown[] | null; to: unknown[] | null; records: number }

export interface ReportImpact {
  report: string
  version: number
  title: string
  titles?: Record<string, string> // per language: the page may switch after the job answered
  why: ReportWhy[]
  records: number
  regrouped: number
  remeasured: number
  moves: ReportMove[]
}

/** `dimension:status` → "dimension status"; `filter`, `scope`, `rows` by their own words. */
export function placeText(place: string, t: TFunction): string {
  const [part, name] = place.includes(':') ? [place.slice(0, place.indexOf(':')), place.slice(place.indexOf(':') + 1)] : [place, '']
  return ['dimension', 'measure', 'filter', 'scope', 'rows'].includes(part) ? t(`reportImpact.place_${part}`, { name }) : place
}

/** A field by its name; a record variable in words (`$state` → "the state"). */
export function inputText(input: string, t: TFunction): string {
  return ['$state', '$updated_at', '$created_at', '$id', '$number'].includes(input) ? t(`reportImpact.input_${input.slice(1)}`) : input
}

/** One reason as a sentence: what the report reads, where, and what the migration does to it. */
export function whyText(why: ReportWhy, t: TFunction, stateLabel: (name: string) => string = (s) => s): string {
  const where = why.read_by.map((p) => placeText(p, t)).join(', ')
  const input = inputText(why.input, t)
  if (why.kind === 'state') {
    const moves = Object.entries(why.states ?? {}).flatMap(([from, to]) => Object.entries(to).map(([into, n]) =>
      t('reportImpact.stateMove', { from: stateLabel(from), to: stateLabel(into), count: n })))
    return t('reportImpact.why_state', { where, moves: moves.join(', '), count: why.records })
  }
  if (why.kind === 'value') return t(why.input === '$updated_at' ? 'reportImpact.why_written' : 'reportImpact.why_value', { input, where, count: why.records })
  if (why.kind === 'removed') return t('reportImpact.why_removed', { input, where })
  if (why.kind === 'retyped') return t('reportImpact.why_retyped', { input, where, from: why.types?.from ?? '?', to: why.types?.to ?? '?' })
  if (why.kind === 'state_named') return t('reportImpact.why_state_named', { where, names: (why.names ?? []).map(stateLabel).join(', '), count: (why.names ?? []).length })
  return `${input} (${where})`
}

/** How many walked records it counts elsewhere: moved between groups, and those only measured otherwise. */
export function countText(report: ReportImpact, t: TFunction): string {
  if (report.records === 0) return t('reportImpact.noRecords')
  const parts = [report.regrouped ? t('reportImpact.regrouped', { count: report.regrouped }) : '',
    report.remeasured ? t('reportImpact.remeasured', { count: report.remeasured }) : ''].filter(Boolean)
  return t('reportImpact.countWith', { records: t('reportImpact.records', { count: report.records }), parts: parts.join(t('reportImpact.sep')) })
}

/** A group by its dimension values as stored ("north · Review"); outside the report; a report without dimensions. */
function groupText(values: unknown[] | null, t: TFunction): string {
  if (values === null) return t('reportImpact.outside')
  if (values.length === 0) return t('reportImpact.wholeReport')
  return values.map((v) => (v === null || v === undefined ? '—' : String(v))).join(' · ')
}

/** One group move: "north · Review → north · Triage: 2 records". */
export function moveText(move: ReportMove, t: TFunction): string {
  return t('reportImpact.move', { from: groupText(move.from, t), to: groupText(move.to, t), count: move.records })
}
