import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { useState } from 'react'
import { useTranslation } from 'react-i18next'
import { ApiError, get, post } from '../lib/api'
import { formatDateTime } from '../lib/i18n'
import { useFormMeta } from '../lib/queries'

// Recurring work (the `schedule` definition kind): what each schedule will make next, what it made,
// skipped or missed, and an admin's decisions on a coming occurrence. Everything here comes from
// GET /schedules; nothing is specific to one app.
interface Occurrence { key: string; at: string; status: 'queued' | 'scheduled' | 'skipped' | 'postponed'; make_at: string }
interface LogEntry { key: string; outcome: 'made' | 'skipped' | 'missed'; at: string; records?: number; failed?: number; reason?: string | null; by?: string | null; postponed_to?: string }
interface Failure { key: string; source: string | null; code: string; message: string; at: string }
interface Schedule {
  name: string; title: string; form: string; version: number; enabled: boolean; rrule: string; time_zone: string
  made: number; next_at: string | null; last_run_at: string | null; upcoming: Occurrence[]; log: LogEntry[]; failures: Failure[]
}

function OccurrenceRow({ schedule, occurrence }: { schedule: Schedule; occurrence: Occurrence }) {
  const { t } = useTranslation()
  const queries = useQueryClient()
  const [to, setTo] = useState('')
  const decide = useMutation({
    mutationFn: (body: Record<string, unknown>) => post(`/schedules/${encodeURIComponent(schedule.name)}/occurrences/${encodeURIComponent(occurrence.key)}`, body),
    onSuccess: () => void queries.invalidateQueries({ queryKey: ['schedules'] }),
  })
  const label = `${schedule.title} ${occurrence.key.replace('T', ' ')}`
  const problem = decide.error as ApiError | null
  return (
    <tr>
      <td>{occurrence.key.replace('T', ' ')}{occurrence.at !== occurrence.key && <> → {occurrence.at.replace('T', ' ')}</>}</td>
      <td className="nowrap">{t(`occurrence_${occurrence.status}`)}</td>
      <td>{formatDateTime(occurrence.make_at, schedule.time_zone)}</td>
      <td className="row">
        {occurrence.status === 'scheduled' && <button type="button" onClick={() => decide.mutate({ skip: true })}>{t('skipOccurrence')}<span className="sr-only"> {label}</span></button>}
        {(occurrence.status === 'skipped' || (occurrence.status === 'postponed' && occurrence.make_at > new Date().toISOString())) && (
          <button type="button" onClick={() => decide.mutate(occurrence.status === 'skipped' ? { restore: true } : { skip: true })}>
            {t(occurrence.status === 'skipped' ? 'restoreOccurrence' : 'skipOccurrence')}<span className="sr-only"> {label}</span>
          </button>
        )}
        {occurrence.status !== 'queued' && occurrence.status !== 'skipped' && (
          <form className="row" onSubmit={(e) => { e.preventDefault(); if (to) decide.mutate({ postpone_to: to.slice(0, 16) }) }}>
            <label>{t('postponeTo')} <input type="datetime-local" value={to} aria-label={`${t('postponeTo')} ${label}`}
              aria-invalid={problem?.details?.some((d) => d.path === 'postpone_to') || undefined}
              aria-describedby={problem ? `${schedule.name}-${occurrence.key}-error` : undefined}
              onChange={(e) => setTo(e.target.value)} /></label>
            <button type="submit">{t('postpone')}<span className="sr-only"> {label}</span></button>
          </form>
        )}
        {problem && <span id={`${schedule.name}-${occurrence.key}-error`} role="alert" className="alert">
          {problem.details?.[0]?.message ?? problem.message}</span>}
      </td>
    </tr>
  )
}

function ScheduleCard({ schedule }: { schedule: Schedule }) {
  const { t } = useTranslation()
  const queries = useQueryClient()
  const run = useMutation({
    mutationFn: () => post(`/schedules/${encodeURIComponent(schedule.name)}/run`, {}),
    onSuccess: () => void queries.invalidateQueries({ queryKey: ['schedules'] }),
  })
  const headingId = `schedule-${schedule.name}`
  const formTitle = useFormMeta(schedule.form)?.title ?? schedule.form // the form as its menu names it
  return (
    <section aria-labelledby={headingId} className="card">
      <h3 id={headingId}>{schedule.title}</h3>
      <p className="muted">
        {formTitle} · <code>{schedule.rrule}</code> · {schedule.time_zone} · v{schedule.version}
        {!schedule.enabled && <> · {t('paused')}</>}
      </p>
      <p>{t('scheduleMade', { count: schedule.made })}
        {schedule.next_at && <> · {t('nextRun')} {formatDateTime(schedule.next_at, schedule.time_zone)}</>}
        {schedule.last_run_at && <> · {t('lastRun')} {formatDateTime(schedule.last_run_at, schedule.time_zone)}</>}
      </p>
      <button type="button" onClick={() => run.mutate()} disabled={run.isPending}>{t('runNow')}<span className="sr-only"> {schedule.title}</span></button>
      {run.error && <p role="alert" className="alert">{(run.error as ApiError).message}</p>}
      <table className="grid">
        <caption>{t('upcoming')}</caption>
        <thead><tr><th scope="col">{t('occurrence')}</th><th scope="col">{t('status')}</th><th scope="col">{t('madeAt')}</th><th scope="col"><span className="sr-only">{t('actions')}</span></th></tr></thead>
        <tbody>{schedule.upcoming.map((o) => <OccurrenceRow key={o.key} schedule={schedule} occurrence={o} />)}</tbody>
      </table>
      {schedule.log.length > 0 && (
        <table className="grid">
          <caption>{t('scheduleLog')}</caption>
          <thead><tr><th scope="col">{t('occurrence')}</th><th scope="col">{t('status')}</th><th scope="col">{t('when')}</th><th scope="col">{t('details')}</th></tr></thead>
          <tbody>
            {schedule.log.map((e, i) => (
              <tr key={`${e.key}-${i}`}>
                <td>{e.key.replace('T', ' ')}</td>
                <td>{t(`outcome_${e.outcome}`)}</td>
                <td>{formatDateTime(e.at, schedule.time_zone)}</td>
                <td>{e.outcome === 'made' ? t('recordsMade', { count: e.records ?? 0, failed: e.failed ?? 0 }) : [e.reason, e.by].filter(Boolean).join(' · ')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {schedule.failures.length > 0 && (
        <table className="grid">
          <caption>{t('scheduleFailures')}</caption>
          <thead><tr><th scope="col">{t('occurrence')}</th><th scope="col">{t('record')}</th><th scope="col">{t('details')}</th></tr></thead>
          <tbody>{schedule.failures.map((f, i) => <tr key={i}><td>{f.key.replace('T', ' ')}</td><td>{f.source ?? '—'}</td><td>{f.message}</td></tr>)}</tbody>
        </table>
      )}
    </section>
  )
}

export default function Schedules() {
  const { t } = useTranslation()
  const schedules = useQuery({ queryKey: ['schedules'], queryFn: () => get<{ items: Schedule[] }>('/schedules') })
  return (
    <section aria-labelledby="schedules-title">
      <h2 id="schedules-title">{t('schedules')}</h2>
      {schedules.error && <p role="alert" className="alert">{(schedules.error as ApiError).message}</p>}
      {schedules.data?.items.length === 0 && <p>{t('noSchedules')}</p>}
      {schedules.data?.items.map((s) => <ScheduleCard key={s.name} schedule={s} />)}
    </section>
  )
}
