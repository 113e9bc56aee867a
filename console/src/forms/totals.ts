// Sums of the sub-table columns a form marks `total` (`x-total` in its schema), formatted as the
// column is: money with its currency, durations as durations, numbers with their scale. The same
// totals the printable service report shows; no other column is summed.
import { type JsonSchema, unwrapNullable } from './rjsf'

export interface DurationUnits {
  h: string
  min: string
  s: string
}

/** Digits after the point a numeric column shows: computed `x-scale`, else from multipleOf (0.01 → 2). */
export function columnScale(column: JsonSchema): number {
  if (typeof column['x-scale'] === 'number') return column['x-scale']
  if (column.type === 'integer' || column['x-type'] === 'duration') return 0
  const step = column.multipleOf
  if (typeof step === 'number' && step > 0 && step < 1) return Math.round(-Math.log10(step))
  return column['x-type'] === 'money' ? 2 : 0
}

/** Seconds as the service report writes them: "2 h 05 min", "12 min 30 s". */
export function formatDuration(seconds: number, units: DurationUnits): string {
  const total = Math.abs(Math.round(seconds))
  const hours = Math.floor(total / 3600)
  const minutes = Math.floor((total % 3600) / 60)
  const secs = total % 60
  const text = (hours ? `${hours} ${units.h} ` : '') + `${String(minutes).padStart(2, '0')} ${units.min}`
    + (secs && !hours ? ` ${String(secs).padStart(2, '0')} ${units.s}` : '')
  return (seconds < 0 ? '-' : '') + text
}

/** A column's value as text (durations and money formatted; undefined: let the caller decide). */
export function formatNumber(value: number, column: JsonSchema, language: string, units: DurationUnits): string {
  const c = unwrapNullable(column)
  if (c['x-type'] === 'duration') return formatDuration(value, units)
  const scale = columnScale(c)
  const text = new Intl.NumberFormat(language, { minimumFractionDigits: scale, maximumFractionDigits: scale }).format(value)
  return c['x-type'] === 'money' && c['x-currency'] ? `${text} ${c['x-currency']}` : text
}

/** {column: formatted sum} for the columns of a sub-table (`items` = its row schema) marked x-total. */
export function columnTotals(items: JsonSchema, rows: Record<string, any>[], language: string, units: DurationUnits): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, raw] of Object.entries<JsonSchema>(items.properties ?? {})) {
    const column = unwrapNullable(raw)
    if (!column['x-total']) continue
    const factor = 10 ** columnScale(column)
    let sum = 0 // in units of the column's last digit: exact for any 15-digit value
    let seen = false
    for (const row of rows) {
      const value = row?.[name]
      if (typeof value === 'number' && Number.isFinite(value)) {
        sum += Math.round(value * factor)
        seen = true
      }
    }
    if (seen) out[name] = formatNumber(sum / factor, column, language, units)
  }
  return out
}
