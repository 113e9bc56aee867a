// Change impact, the reports part: the reports over the form whose numbers the migration would rebuild
// (the stream re-applies each moved record's contribution), each with its title, why and how many of the
// records read would count elsewhere, as the migration job (dry run) lists them.
import { useTranslation } from 'react-i18next'
import { countText, moveText, whyText, type ReportImpact } from './reportImpact'

interface Props {
  reports: ReportImpact[] | undefined
  compared: number | undefined // report definitions read (the registry and each report version)
  stateLabel?: (name: string) => string
}

export default function ReportImpactList({ reports, compared, stateLabel }: Props) {
  const { t, i18n } = useTranslation()
  if (reports === undefined) return null // a job of a server without this part
  const title = t('reportImpact.title')
  return (
    <section className="wf-reports" aria-label={title}>
      <h4>{title}</h4>
      {reports.length === 0 ? <p className="muted">{t('reportImpact.none')}</p> : (
        <ul aria-label={title}>
          {reports.map((r) => (
            <li key={r.report} data-report={r.report}>
              <strong>{r.titles?.[i18n.language] ?? r.title}</strong> <span className="muted">({r.report}, v{r.version})</span>: <span data-testid={`report-impact-${r.report}`}>{countText(r, t)}</span>
              <ul>
                {r.why.map((w, i) => <li key={i}>{whyText(w, t, stateLabel)}</li>)}
                {r.moves.map((m, i) => <li key={`m${i}`} className="muted">{moveText(m, t)}</li>)}
              </ul>
            </li>
          ))}
        </ul>
      )}
      {compared !== undefined && compared > 0 && <p className="muted">{t('reportImpact.readCost', { count: Math.max(0, compared - 1) })}</p>}
    </section>
  )
}
