import { useMutation, useQuery } from '@tanstack/react-query'
import { useTranslation } from 'react-i18next'
import { ApiError, get, patch, post } from '../lib/api'
import type { ActionInfo } from '../lib/types'

interface Part { value: unknown; score: number; weight: number; cost: number; note: string }
interface Candidate {
  user: string
  name: string
  region?: string
  rank: number | null
  eligible: boolean
  cost: number
  parts: Record<string, Part>
  excluded: { rule: string; reason?: string; message?: string }[]
  load: number
  today?: number // orders assigned on the policy's working day (what the daily capacity counts)
  capacity: number
}

interface Props {
  base: string
  version: number
  assignField: string
  action: ActionInfo
  canEditField: boolean
  onDone: () => void
}

/** Manual dispatch: every engineer the tenant's dispatch policy considers, ranked, with each part of
 *  the score ("why this engineer") and the rules that exclude the others; Assign sets the engineer
 *  field and takes the state's action that needs it. */
export default function DispatchPanel({ base, version, assignField, action, canEditField, onDone }: Props) {
  const { t } = useTranslation()
  const found = useQuery({
    queryKey: ['candidates', base, version],
    queryFn: () => get<{ best: string | null; reason: string | null; candidates: Candidate[] }>(`${base}/dispatch/candidates`),
    retry: false,
  })
  const assign = useMutation({
    mutationFn: async (user: string) => {
      const written = canEditField ? await patch<{ version: number }>(base, { version, data: { [assignField]: user } }) : { version }
      return post(`${base}/actions/${encodeURIComponent(action.action)}`, { version: written.version })
    },
    onSuccess: onDone,
  })
  if (found.error) return null // not a dispatcher, or no policy for this form: nothing to show
  if (!found.data) return <p role="status">{t('loading')}</p>
  const problem = assign.error as ApiError | null
  return (
    <section aria-labelledby="dispatch-title" className="panel">
      <h2 id="dispatch-title">{t('dispatch')}: {t('candidates')}</h2>
      {found.data.reason && <p>{found.data.reason}</p>}
      {problem && <p role="alert" className="alert">{problem.message}</p>}
      <table className="grid">
        <thead>
          <tr><th scope="col">#</th><th scope="col">{t('assignee')}</th><th scope="col">{t('score')}</th><th scope="col">{t('whyThisEngineer')}</th><th scope="col"><span className="sr-only">{t('assign')}</span></th></tr>
        </thead>
        <tbody>
          {found.data.candidates.map((c) => (
            <tr key={c.user}>
              <td>{c.rank ?? '—'}</td>
              <td>{c.name || c.user} <span className="muted">({c.user}{c.region ? ` · ${c.region}` : ''} · {t('engineerLoad', { open: c.load, today: c.today ?? 0, capacity: c.capacity })})</span></td>
              <td>{c.eligible ? c.cost.toFixed(3) : t('excluded')}</td>
              <td>
                {c.eligible ? (
                  <ul className="parts">
                    {Object.entries(c.parts).filter(([, p]) => p.weight).map(([name, p]) => (
                      <li key={name}><strong>{t(`scorePart.${name}`, { defaultValue: name })}</strong> {p.cost.toFixed(3)} <span className="muted">= {p.weight} × {p.score.toFixed(3)} · {p.note}</span></li>
                    ))}
                  </ul>
                ) : (
                  <ul className="parts">{c.excluded.map((x, i) => <li key={i}>{x.message ?? x.reason ?? x.rule}</li>)}</ul>
                )}
              </td>
              <td>{c.eligible && <button type="button" disabled={assign.isPending} onClick={() => assign.mutate(c.user)}>{t('assign')} {c.name || c.user}</button>}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  )
}
