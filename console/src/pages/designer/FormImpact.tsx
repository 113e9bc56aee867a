// A form version's change impact before it is published (issue 15): a dry run of moving the form's live
// records onto the saved version — how many would move, which would now fail a required field (and
// which), the reports whose numbers would be rebuilt, what the job read — then publishing it with those
// records moved (a migration job, followed until done); the toolbar's Publish leaves them where they are.
import { useMutation } from '@tanstack/react-query'
import { useTranslation } from 'react-i18next'
import { ApiError, post } from '../../lib/api'
import { useMigrationJob, type MigrationJob } from './migrationJob'
import MigrationProgress from './MigrationProgress'
import ReportImpactList from './ReportImpactList'

interface Props {
  name: string
  version: number
  published: number
  onPublished: () => void
}

export default function FormImpact({ name, version, published, onPublished }: Props) {
  const { t } = useTranslation()
  const dry = useMutation({
    mutationFn: () => post<MigrationJob>(`/forms/${encodeURIComponent(name)}/migrations`, { to_version: version, dry_run: true }),
  })
  const dryJob = useMigrationJob(name, dry.data)
  const publish = useMutation({
    mutationFn: () => post<{ published: number; migration: MigrationJob }>(
      `/definitions/form/${encodeURIComponent(name)}/versions/${version}/publish`, { migrate: {} }),
    onSuccess: onPublished,
  })
  const runJob = useMigrationJob(name, publish.data?.migration)
  const report = dryJob.data
  const missing = report ? report.problems.filter((p) => p.kind === 'needs_values') : []
  return (
    <section className="fd-impact" aria-labelledby="fd-impact-title">
      <h4 id="fd-impact-title">{t('formDesigner.impactTitle', { version, published })}</h4>
      <button type="button" onClick={() => dry.mutate()} disabled={dry.isPending || publish.isSuccess}>{t('flowDesigner.runDryRun')}</button>
      {dry.error && <p role="alert" className="alert">{(dry.error as ApiError).message}</p>}
      <div role="status" aria-live="polite">{report && (report.status === 'done' ? t('flowDesigner.dryRunDone') : t('flowDesigner.dryRunRunning', { seen: report.counts.seen }))}</div>
      {report && (
        <>
          <dl className="fd-figures">
            <dt>{t('flowDesigner.wouldMove')}</dt><dd data-testid="form-impact-moved">{report.counts.moved}</dd>
            <dt>{t('flowDesigner.needsValues')}</dt><dd data-testid="form-impact-needs-values">{report.counts.needs_values}</dd>
            <dt>{t('flowDesigner.already')}</dt><dd>{report.counts.already}</dd>
            <dt>{t('flowDesigner.readCost')}</dt><dd>{t('flowDesigner.recordsRead', { count: report.counts.seen })}</dd>
          </dl>
          {missing.length > 0 && (
            <ul aria-label={t('flowDesigner.needsValues')} className="fd-impact-missing">
              {missing.map((p) => <li key={p.record}>{p.number ?? p.record}: {(p.details ?? []).map((d) => `${d.path} ${d.message}`).join('; ')}</li>)}
            </ul>
          )}
          <ReportImpactList reports={report.reports} compared={report.reads?.reports} stateLabel={(s) => s} />
          <p className="muted">{t('formDesigner.impactStay', { published })}</p>
        </>
      )}
      <button type="button" className="primary" disabled={!report || report.status !== 'done' || publish.isPending || publish.isSuccess}
        onClick={() => publish.mutate()}>{t('formDesigner.publishAndMove', { version })}</button>
      {publish.error && <p role="alert" className="alert">{(publish.error as ApiError).message}</p>}
      {runJob.data && <MigrationProgress job={runJob.data} className="fd-progress" />}
    </section>
  )
}
