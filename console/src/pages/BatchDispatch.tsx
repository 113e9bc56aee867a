import { useMutation, useQueryClient } from '@tanstack/react-query'
import { useState } from 'react'
import { useTranslation } from 'react-i18next'
import { Link, useParams } from 'react-router'
import { ApiError, post } from '../lib/api'
import { useFormMeta } from '../lib/queries'

interface Outcome { record_id: string; status: string; engineer?: string | null; cost?: number; reason?: string; eligible_engineers?: number }
interface Plan { dry_run: boolean; summary: Record<string, number>; results: Outcome[] }

/** Batch dispatch of the backlog: a preview of the whole assignment first (dry run, nothing written),
 *  then the same plan applied — each order with the version read, so a changed order is a conflict. */
export default function BatchDispatch() {
  const { form = '' } = useParams()
  const { t } = useTranslation()
  const queries = useQueryClient()
  const meta = useFormMeta(form)
  const [filter, setFilter] = useState<Record<string, string>>({})
  const [preview, setPreview] = useState<Plan | null>(null)
  const run = useMutation({
    mutationFn: (dryRun: boolean) => post<Plan>('/dispatch/batch', {
      form, dry_run: dryRun, limit: 200,
      ...(dryRun || !preview ? { filter: Object.fromEntries(Object.entries(filter).filter(([, v]) => v)) }
        : { record_ids: preview.results.filter((r) => r.status === 'planned').map((r) => r.record_id) }),
    }),
    onSuccess: (plan) => {
      setPreview(plan)
      if (!plan.dry_run) for (const key of [['records', form], ['tasks']]) void queries.invalidateQueries({ queryKey: key })
    },
  })
  const problem = run.error as ApiError | null
  return (
    <section aria-labelledby="batch-title">
      <h1 id="batch-title">{meta?.title ?? form} · {t('batchDispatch')}</h1>
      <form className="filters" onSubmit={(e) => { e.preventDefault(); setPreview(null); run.mutate(true) }}>
        {meta?.filters.filter((f) => f.options).map((f) => (
          <label key={f.name}>{f.label}{' '}
            <select value={filter[f.name] ?? ''} onChange={(e) => setFilter({ ...filter, [f.name]: e.target.value })}>
              <option value="">{t('any')}</option>
              {f.options!.map((o) => <option key={o.value} value={o.value}>{o.label || o.value}</option>)}
            </select>
          </label>
        ))}
        <button type="submit" disabled={run.isPending}>{t('previewPlan')}</button>
      </form>
      {problem && <p role="alert" className="alert">{problem.message}{problem.details.map((d) => ` — ${d.path}: ${d.message}`)}</p>}
      {preview && (
        <>
          <p role="status">{preview.dry_run ? t('planPreview') : t('planApplied')}: {Object.entries(preview.summary).map(([k, v]) => `${k} ${v}`).join(', ') || '0'}</p>
          <table className="grid">
            <thead><tr><th scope="col">{t('record')}</th><th scope="col">{t('state')}</th><th scope="col">{t('assignee')}</th><th scope="col">{t('score')}</th></tr></thead>
            <tbody>
              {preview.results.map((r) => (
                <tr key={r.record_id}>
                  <td><Link to={`/forms/${form}/records/${r.record_id}`}>{r.record_id}</Link></td>
                  <td>{r.status}</td>
                  <td>{r.engineer ?? r.reason ?? ''}</td>
                  <td>{r.cost !== undefined ? r.cost.toFixed(3) : ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {preview.dry_run && preview.results.some((r) => r.status === 'planned') && (
            <button type="button" disabled={run.isPending} onClick={() => run.mutate(false)}>{t('applyPlan')}</button>
          )}
        </>
      )}
    </section>
  )
}
