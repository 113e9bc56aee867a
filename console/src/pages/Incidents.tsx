import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { useState } from 'react'
import { useTranslation } from 'react-i18next'
import { ApiError, get, post } from '../lib/api'
import { formatDateTime } from '../lib/i18n'

// A timer whose step failed (GET …/incidents): which one, why, since when, how often, the next try;
// an admin retries it now or dismisses it with a comment. Asked for only when a timer of the record
// is past due — an incident exists only then — so an ordinary record page costs no extra request.
export interface Incident {
  source: string
  name: string
  state: string
  due_at: string
  failures: number
  failed_since: string
  last_failed_at: string
  next_try_at: string
  error: { code: string; message: string }
}

export function pastDue(timers: { due_at: string }[] | undefined, now = Date.now()): boolean {
  return (timers ?? []).some((timer) => Date.parse(timer.due_at) <= now)
}

export default function Incidents({ base, timers, admin, label, onChange }: {
  base: string
  timers: { name: string; due_at: string }[]
  admin: boolean
  label: (timer: string) => string
  onChange: () => void
}) {
  const { t } = useTranslation()
  const queries = useQueryClient()
  const [comment, setComment] = useState('')
  const [done, setDone] = useState(false)
  const key = ['incidents', base]
  const incidents = useQuery({ queryKey: key, queryFn: () => get<{ items: Incident[] }>(`${base}/incidents`), enabled: pastDue(timers) })
  const settle = () => { void queries.invalidateQueries({ queryKey: key }); onChange() }
  const retry = useMutation({
    mutationFn: (name: string) => post(`${base}/incidents/${encodeURIComponent(name)}/retry`, {}),
    onSuccess: () => { setDone(true); settle() },
    onError: settle, // the failure is counted again: show the new count
  })
  const dismiss = useMutation({
    mutationFn: (name: string) => post(`${base}/incidents/${encodeURIComponent(name)}/dismiss`, { comment }),
    onSuccess: () => { setComment(''); settle() },
  })
  const items = incidents.data?.items ?? []
  if (!items.length) return done ? <p role="status">{t('incidentFixed')}</p> : null
  const problem = (retry.error ?? dismiss.error) as ApiError | null
  return (
    <section aria-labelledby="incidents-title" className="panel incidents">
      <h2 id="incidents-title">{t('incidents')}</h2>
      {problem && (
        <div role="alert" className="alert">
          {problem.message}
          {problem.details.map((d) => <div key={d.path + d.message}>{d.path}: {d.message}</div>)}
        </div>
      )}
      <ul>
        {items.map((incident) => (
          <li key={incident.name}>
            <p>
              <strong>{t('incidentLine', { name: label(incident.name), count: incident.failures,
                since: formatDateTime(incident.failed_since), next: formatDateTime(incident.next_try_at) })}</strong>
            </p>
            <p className="muted">{incident.error.message} ({incident.error.code})</p>
            {admin && (
              <div className="row">
                <button type="button" onClick={() => retry.mutate(incident.name)} disabled={retry.isPending}>{t('incidentRetry')}</button>
                <label className="block">
                  {t('incidentComment')}
                  <input value={comment} onChange={(e) => setComment(e.target.value)} />
                </label>
                <button type="button" onClick={() => dismiss.mutate(incident.name)} disabled={dismiss.isPending || !comment.trim()}>
                  {t('incidentDismiss')}
                </button>
              </div>
            )}
          </li>
        ))}
      </ul>
    </section>
  )
}
