import type { FieldProps } from '@rjsf/utils'
import { useState } from 'react'
import { useTranslation } from 'react-i18next'

/** {lat, lng[, accuracy]} without a map: two numbers, or the browser's position on request. */
export default function GeoField(props: FieldProps) {
  const { t } = useTranslation()
  const value = (props.formData ?? {}) as { lat?: number; lng?: number; accuracy?: number }
  const [problem, setProblem] = useState('')
  const set = (next: { lat?: number; lng?: number; accuracy?: number }) =>
    props.onChange(next.lat === undefined && next.lng === undefined ? undefined : next, [], props.idSchema?.$id)
  const num = (text: string) => (text.trim() === '' ? undefined : Number(text))
  const here = () =>
    navigator.geolocation?.getCurrentPosition(
      (p) => set({ lat: Number(p.coords.latitude.toFixed(6)), lng: Number(p.coords.longitude.toFixed(6)), accuracy: Math.round(p.coords.accuracy) }),
      (e) => setProblem(e.message),
    )
  const id = props.idSchema?.$id ?? props.name
  return (
    <fieldset className="geo">
      <legend>{props.schema.title ?? props.name}</legend>
      <label>{t('latitude')} <input id={`${id}_lat`} inputMode="decimal" value={value.lat ?? ''} onChange={(e) => set({ ...value, lat: num(e.target.value) })} /></label>{' '}
      <label>{t('longitude')} <input id={`${id}_lng`} inputMode="decimal" value={value.lng ?? ''} onChange={(e) => set({ ...value, lng: num(e.target.value) })} /></label>{' '}
      <button type="button" onClick={here}>{t('useMyLocation')}</button>
      {problem && <span role="alert"> {problem}</span>}
    </fieldset>
  )
}
