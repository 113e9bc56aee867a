import { useTranslation } from 'react-i18next'
import { Link } from 'react-router'
import { display } from '../../forms/rjsf'
import { formatDateTime } from '../../lib/i18n'
import { useNavigation, useSchema } from '../../lib/queries'
import type { RecordBody } from '../../lib/types'
import { useFieldRecords, useQueue } from '../../offline/hooks'
import { distanceM, project } from '../../offline/overlay'
import SyncPanel from '../../offline/SyncPanel'
import { formatDistance, mapLink, nextDue, siteOf, titleOf, useDiagram, usePosition, useVanStock } from './common'

/** The engineer's day on a phone: the records of their open field work as the last sync brought them
 *  (so it opens with no network), nearest deadline first, then nearest site; each with the state the
 *  queued changes lead to, the distance from here and a link to the site in the map app. */
export default function FieldList() {
  const { t, i18n } = useTranslation()
  const nav = useNavigation()
  const records = useFieldRecords()
  const queue = useQueue()
  const here = usePosition()
  const forms = (nav.data?.forms ?? []).filter((f) => f.field_service)
  return (
    <article aria-labelledby="field-title" className="field">
      <h1 id="field-title">{t('fieldApp')}</h1>
      <SyncPanel />
      {forms.map((meta) => <FormSection key={meta.name} meta={meta} records={(records.data ?? []).filter((r) => r.form === meta.name)}
        queue={queue.data ?? []} here={here} language={i18n.language} />)}
      {records.isSuccess && !(records.data ?? []).length && <p>{t('noFieldWork')}</p>}
      {!forms.length && nav.isSuccess && <p>{t('noFieldForms')}</p>}
      <p className="muted">{t('fieldListNote')}</p>
    </article>
  )
}

function FormSection({ meta, records, queue, here, language }: {
  meta: NonNullable<ReturnType<typeof useNavigation>['data']>['forms'][number]
  records: RecordBody[]
  queue: NonNullable<ReturnType<typeof useQueue>['data']>
  here: { lat: number; lng: number } | null
  language: string
}) {
  const { t } = useTranslation()
  const diagram = useDiagram(meta.workflow)
  const schema = useSchema(meta.name)
  const fs = meta.field_service ?? null
  const nav = useNavigation()
  useVanStock(fs, nav.data?.user.id ?? '') // kept on the device for parts drawn offline
  const rows = records.map((r) => {
    const projected = project(r, queue, diagram.data, fs)
    const site = siteOf(r, fs)
    return { r, projected, site, distance: site && here ? distanceM(here, site) : null, due: nextDue(r) }
  }).sort((a, b) => (a.due ?? '9').localeCompare(b.due ?? '9') || (a.distance ?? Infinity) - (b.distance ?? Infinity))
  const label = (state: string | null) => (state ? meta.states.find((s) => s.name === state)?.label ?? state : t('decidedOnSync'))
  if (!rows.length) return null
  return (
    <section aria-labelledby={`field-${meta.name}`}>
      <h2 id={`field-${meta.name}`}>{meta.title}</h2>
      <ul className="cards">
        {rows.map(({ r, projected, site, distance, due }) => (
          <li key={r.id} className="card" data-record={r.id}>
            <Link to={`/field/${encodeURIComponent(r.form)}/${encodeURIComponent(r.id)}`}><strong>{titleOf(r, meta)}</strong></Link>
            <span className="state" data-state={projected.state ?? ''}>{label(projected.state)}</span>
            {projected.pending.some((e) => e.state === 'pending') && <span className="badge">{t('pendingCount', { count: projected.pending.filter((e) => e.state === 'pending').length })}</span>}
            {queue.some((e) => e.op.record_id === r.id && e.state !== 'pending') && <span className="badge off">{t('needsYou')}</span>}
            <dl className="facts">
              {meta.columns.filter((c) => c.name !== meta.title_field && r.data[c.name] != null && r.data[c.name] !== '' && !['user', 'lookup'].includes(c.type)).slice(0, 3).map((c) => (
                <div key={c.name}><dt>{c.label}</dt><dd>{display(r.data[c.name], schema.data?.properties?.[c.name])}</dd></div>
              ))}
              {due && <div><dt>{t('due')}</dt><dd><time dateTime={due}>{formatDateTime(due)}</time></dd></div>}
              {distance !== null && <div><dt>{t('distance')}</dt><dd data-testid="distance">{formatDistance(distance, language)}</dd></div>}
            </dl>
            {site && <a href={mapLink(site, titleOf(r, meta))} rel="noreferrer noopener">{t('openMap')}</a>}
          </li>
        ))}
      </ul>
    </section>
  )
}
