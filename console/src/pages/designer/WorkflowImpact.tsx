// Change impact before publishing: a dry run of the record migration onto the saved version (where
// the live records of removed or renamed states would go, by the mapping picked here; who would miss
// a required value; the timers that change; the reports whose numbers would be rebuilt; what the job
// read), then publishing with that mapping and the migration job's progress until it is done.
import { useMutation } from '@tanstack/react-query'
import { useMemo, useState } from 'react'
import { useTranslation } from 'react-i18next'
import { ApiError, post } from '../../lib/api'
import { useMigrationJob as useJob, type MigrationJob as Job } from './migrationJob'
import MigrationProgress from './MigrationProgress'
import ReportImpactList from './ReportImpactList'
import { RESTING, labelOf, timerChanges, type WorkflowDef } from './WorkflowModel'

interface Props {
  name: string
  base: WorkflowDef
  baseVersion: number
  saved: WorkflowDef
  version: number
  renames: Record<string, string>
  onPublished: () => void
}

export default function WorkflowImpact({ name, base, baseVersion, saved, version, renames, onPublished }: Props) {
  const { t, i18n } = useTranslation()
  const removed = useMemo(() => Object.keys(base.States).filter((s) => !saved.States[s]), [base, saved])
  const targets = Object.keys(saved.States).filter((s) => RESTING.has(saved.States[s].Type))
  const [mapping, setMapping] = useState<Record<string, string>>(() =>
    Object.fromEntries(removed.map((s) => [s, renames[s] && saved.States[renames[s]] && RESTING.has(saved.States[renames[s]].Type) ? renames[s] : ''])))
  const stateMap = Object.fromEntries(Object.entries(mapping).filter(([, v]) => v))
  const timers = useMemo(() => timerChanges(base, saved, renames), [base, saved, renames])
  const dry = useMutation({
    mutationFn: () => post<Job>(`/forms/${encodeURIComponent(name)}/migrations`, { workflow_version: version, state_map: stateMap, dry_run: true }),
  })
  const dryJob = useJob(name, dry.data)
  const publish = useMutation({
    mutationFn: () => post<{ published: number; migration: Job }>(`/definitions/workflow/${encodeURIComponent(name)}/versions/${version}/publish`, { migrate: { state_map: stateMap } }),
    onSuccess: onPublished,
  })
  const runJob = useJob(name, publish.data?.migration)
  const report = dryJob.data
  const label = (def: WorkflowDef, s: string) => (def.States[s] ? labelOf(def, s, i18n.language) : s)
  const rows = report ? Object.entries(report.by_state).flatMap(([from, to]) => Object.entries(to).map(([into, count]) => ({ from, into, count }))) : []
  const stranded = report ? report.problems.filter((p) => p.kind === 'needs_state') : []
  const missing = report ? report.problems.filter((p) => p.kind === 'needs_values') : []

  return (
    <section className="wf-impact" aria-labelledby="wf-impact-title">
      <h3 id="wf-impact-title">{t('flowDesigner.impactTitle', { version, published: baseVersion })}</h3>
      <fieldset>
        <legend>{t('flowDesigner.mapping')}</legend>
        {removed.length === 0 && <p className="muted">{t('flowDesigner.noneRemoved')}</p>}
        {removed.map((s) => (
          <label key={s} className="wf-map">
            {t('flowDesigner.mapFrom', { state: `${s} (${label(base, s)})` })}
            <select value={mapping[s] ?? ''} onChange={(e) => { setMapping({ ...mapping, [s]: e.target.value }); dry.reset() }}>
              <option value="">{t('flowDesigner.unmapped')}</option>
              {targets.map((n) => <option key={n} value={n}>{n} — {label(saved, n)}</option>)}
            </select>
          </label>
        ))}
      </fieldset>
      <button type="button" onClick={() => dry.mutate()} disabled={dry.isPending || publish.isSuccess}>{t('flowDesigner.runDryRun')}</button>
      {dry.error && <p role="alert" className="alert">{(dry.error as ApiError).message}{(dry.error as ApiError).details.map((d) => ` · ${d.path}: ${d.message}`).join('')}</p>}
      <div role="status" aria-live="polite">{report && (report.status === 'done' ? t('flowDesigner.dryRunDone') : t('flowDesigner.dryRunRunning', { seen: report.counts.seen }))}</div>
      {report && (
        <>
          <table className="grid" aria-label={t('flowDesigner.liveRecords')}>
            <caption>{t('flowDesigner.liveRecords')}</caption>
            <thead><tr><th scope="col">{t('flowDesigner.fromState')}</th><th scope="col">{t('flowDesigner.toState')}</th><th scope="col">{t('flowDesigner.records')}</th></tr></thead>
            <tbody>
              {rows.map((r) => (
                <tr key={`${r.from}>${r.into}`} className={removed.includes(r.from) ? 'wf-removed' : undefined}>
                  <th scope="row">{r.from}{removed.includes(r.from) ? ` (${renames[r.from] ? t('flowDesigner.renamedTo', { name: renames[r.from] }) : t('flowDesigner.removedState')})` : ''}</th>
                  <td>{r.into}</td>
                  <td data-testid={`impact-${r.from}`}>{r.count}</td>
                </tr>
              ))}
              {Object.entries(stranded.reduce<Record<string, number>>((acc, p) => ({ ...acc, [p.state ?? '']: (acc[p.state ?? ''] ?? 0) + 1 }), {})).map(([from, count]) => (
                <tr key={`stranded-${from}`} className="wf-removed">
                  <th scope="row">{from} ({t('flowDesigner.removedState')})</th><td>{t('flowDesigner.stays')}</td><td data-testid={`impact-${from}`}>{count}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <dl className="wf-figures">
            <dt>{t('flowDesigner.wouldMove')}</dt><dd>{report.counts.moved}</dd>
            <dt>{t('flowDesigner.needsState')}</dt><dd>{report.counts.needs_state}</dd>
            <dt>{t('flowDesigner.needsValues')}</dt><dd>{report.counts.needs_values}</dd>
            <dt>{t('flowDesigner.already')}</dt><dd>{report.counts.already}</dd>
            <dt>{t('flowDesigner.readCost')}</dt><dd>{t('flowDesigner.recordsRead', { count: report.counts.seen })}</dd>
          </dl>
          {missing.length > 0 && (
            <ul aria-label={t('flowDesigner.needsValues')}>
              {missing.map((p) => <li key={p.record}>{p.number ?? p.record}: {(p.details ?? []).map((d) => `${d.path} ${d.message}`).join('; ')}</li>)}
            </ul>
          )}
          <ReportImpactList reports={report.reports} compared={report.reads?.reports}
            stateLabel={(s) => (saved.States[s] ? `${s} (${label(saved, s)})` : base.States[s] ? `${s} (${label(base, s)})` : s)} />
        </>
      )}
      <h4>{t('flowDesigner.timers')}</h4>
      {timers.length === 0 ? <p className="muted">{t('flowDesigner.timersSame')}</p> : (
        <ul>{timers.map((c, i) => <li key={i}>{c.state === '*' ? t('flowDesigner.wholeWorkflow') : c.state}: {c.deadline} — {t(`flowDesigner.timer_${c.change}`)}</li>)}</ul>
      )}
      <button type="button" className="primary" disabled={!report || report.status !== 'done' || publish.isPending || publish.isSuccess} onClick={() => publish.mutate()}>
        {t('flowDesigner.publishWithMigration', { version })}
      </button>
      {publish.error && <p role="alert" className="alert">{(publish.error as ApiError).message}</p>}
      {runJob.data && <MigrationProgress job={runJob.data} className="wf-progress" />}
    </section>
  )
}
