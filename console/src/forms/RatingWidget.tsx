import type { WidgetProps } from '@rjsf/utils'

/** Stars 1..maximum as a radio group: keyboard arrows move, a click sets, "clear" leaves it empty. */
export default function RatingWidget(props: WidgetProps) {
  const max = Number(props.schema.maximum ?? 5)
  const value = typeof props.value === 'number' ? props.value : 0
  return (
    <span role="radiogroup" aria-labelledby={`${props.id}-label`} className="rating" id={props.id}>
      <span id={`${props.id}-label`} className="sr-only">{props.label}</span>
      {Array.from({ length: max }, (_, i) => i + 1).map((n) => (
        <label key={n} className={n <= value ? 'star on' : 'star'}>
          <input type="radio" name={props.id} value={n} checked={value === n} disabled={props.disabled || props.readonly}
            onChange={() => props.onChange(n)} className="sr-only" />
          <span aria-hidden="true">{n <= value ? '★' : '☆'}</span>
          <span className="sr-only">{n} / {max}</span>
        </label>
      ))}
      {value > 0 && !props.required && <button type="button" className="link" onClick={() => props.onChange(undefined)}>×<span className="sr-only">{props.label}</span></button>}
    </span>
  )
}
