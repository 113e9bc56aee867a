import { useMutation, useQuery } from '@tanstack/react-query'
import { useState } from 'react'
import { useTranslation } from 'react-i18next'
import { ApiError, get, post } from '../lib/api'
import type { FormNav, RecordBody } from '../lib/types'

type FieldService = NonNullable<FormNav['field_service']>

function position(): Promise<{ lat: number; lng: number; accuracy?: number }> {
  return new Promise((resolve, reject) => {
    if (!navigator.geolocation) return reject(new Error('no geolocation in this browser'))
    navigator.geolocation.getCurrentPosition(
      (p) => resolve({ lat: Number(p.coords.latitude.toFixed(6)), lng: Number(p.coords.longitude.toFixed(6)), accuracy: Math.round(p.coords.accuracy) }),
      (e) => reject(new Error(e.message)),
      { enableHighAccuracy: true, timeout: 15_000 },
    )
  })
}

/** Check-in/out with the browser's position and parts drawn from stock, as the tenant's field-service
 *  settings describe them (the server checks who, where, when and the stock, in one transaction). */
export default function FieldWork({ base, rec, settings, onDone }: { base: string; rec: RecordBody; settings: FieldService; onDone: () => void }) {
  const { t } = useTranslation()
  const [reason, setReason] = useState('')
  const [needReason, setNeedReason] = useState(false)
  const [part, setPart] = useState('')
  const [quantity, setQuantity] = useState('1')
  const visits: any[] = (settings.checkin && rec.data[settings.checkin.visits_field]) || []
  const open = visits.some((v) => v && v.checkin_at && !v.checkout_at)
  const visit = useMutation({
    mutationFn: async (kind: 'checkin' | 'checkout') => {
      const location = await position()
      return post(`${base}/${kind}`, { version: rec.version, location, ...(kind === 'checkin' && reason ? { reason } : {}) })
    },
    onSuccess: () => { setNeedReason(false); setReason(''); onDone() },
    onError: (e) => { if (e instanceof ApiError && e.code === 'checkin_reason_required') setNeedReason(true) },
  })
  const parts = useQuery({
    queryKey: ['lookup', settings.parts?.part_form],
    queryFn: () => get<{ items: RecordBody[] }>(`/forms/${encodeURIComponent(settings.parts!.part_form)}/records?limit=100`),
    enabled: !!settings.parts,
  })
  const draw = useMutation({
    mutationFn: () => post(`${base}/parts`, { version: rec.version, part, quantity: Number(quantity),
      line_id: `line-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}` }),
    onSuccess: () => { setPart(''); setQuantity('1'); onDone() },
  })
  const problem = (visit.error ?? draw.error) as Error | null
  const partLabel = (r: RecordBody) => String(r.data.name ?? r.number ?? r.id) + (r.data.part_no ? ` (${r.data.part_no})` : '')
  return (
    <section aria-labelledby="fieldwork-title" className="panel">
      <h2 id="fieldwork-title">{t('fieldWork')}</h2>
      {problem && !(problem instanceof ApiError && problem.code === 'checkin_reason_required') && (
        <p role="alert" className="alert">{problem.message}{problem instanceof ApiError ? problem.details.map((d) => ` — ${d.message}`).join('') : ''}</p>
      )}
      {settings.checkin && (
        <div className="row">
          {!open && <button type="button" disabled={visit.isPending} onClick={() => visit.mutate('checkin')}>{t('checkIn')}</button>}
          {open && <button type="button" disabled={visit.isPending} onClick={() => visit.mutate('checkout')}>{t('checkOut')}</button>}
          {needReason && (
            <label>{t('checkinReason', { radius: settings.checkin.radius_m })} <input value={reason} onChange={(e) => setReason(e.target.value)} /></label>
          )}
          {visits.length > 0 && <span className="muted">{t('visits', { count: visits.length })}</span>}
        </div>
      )}
      {settings.parts && (
        <form className="row" onSubmit={(e) => { e.preventDefault(); if (part) draw.mutate() }}>
          <label>{t('part')}{' '}
            <select value={part} onChange={(e) => setPart(e.target.value)} required>
              <option value="">—</option>
              {parts.data?.items.map((r) => <option key={r.id} value={r.id}>{partLabel(r)}</option>)}
            </select>
          </label>
          <label>{t('quantity')} <input type="number" min={1} step={1} value={quantity} onChange={(e) => setQuantity(e.target.value)} required /></label>
          <button type="submit" disabled={draw.isPending || !part}>{t('drawPart')}</button>
        </form>
      )}
    </section>
  )
}
