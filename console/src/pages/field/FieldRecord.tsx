import { useQuery } from '@tanstack/react-query'
import { useEffect, useMemo, useState } from 'react'
import { useTranslation } from 'react-i18next'
import { isOnline } from '../../lib/network'
import { Link, useParams } from 'react-router'
import { Preview } from '../../forms/Attachments'
import RecordForm from '../../forms/RecordForm'
import { changedFields, display, unwrapNullable, type JsonSchema } from '../../forms/rjsf'
import SignaturePad from '../../forms/SignaturePad'
import { get } from '../../lib/api'
import { formatDateTime } from '../../lib/i18n'
import { stateLabel, useFormMeta, useNavigation, useSchema } from '../../lib/queries'
import type { RecordBody } from '../../lib/types'
import type { Queued } from '../../offline/db'
import { useFieldRecord, useOnline, useQueue } from '../../offline/hooks'
import { reduce } from '../../offline/images'
import { distanceM, editableIn, offered, project, stateOf } from '../../offline/overlay'
import { blobOf, enqueue, newId, type NewOp } from '../../offline/queue'
import SyncPanel from '../../offline/SyncPanel'
import { syncNow } from '../../offline/sync'
import { currentPosition, type FieldService, formatDistance, mapLink, nextDue, siteOf, titleOf, useDiagram, usePosition, useVanStock } from './common'

const ATTACHMENT = new Set(['image', 'file', 'signature'])
const xType = (prop: JsonSchema | undefined) => (prop ? unwrapNullable(prop)['x-type'] ?? prop['x-type'] : undefined)

/** Queue a change (durably, before anything else) and send it at once when there is a network. */
async function change(op: NewOp, file?: Parameters<typeof enqueue>[1]) {
  await enqueue(op, file)
  if (isOnline()) syncNow().catch(() => {})
}

/** One record of field work on a phone, online or not: everything the engineer does goes into the
 *  device's queue and is shown at once over the server's last copy (state, visits, parts, files);
 *  the server checks it all when it arrives, and what it refuses is shown with why. */
export default function FieldRecord() {
  const { form = '', id = '' } = useParams()
  const { t, i18n } = useTranslation()
  const nav = useNavigation()
  const meta = useFormMeta(form)
  const schema = useSchema(form)
  const diagram = useDiagram(meta?.workflow)
  const queue = useQueue()
  const online = useOnline()
  const cached = useFieldRecord(id)
  // not among the user's synced field work (e.g. opened from a link): the server's copy, when online
  const fetched = useQuery({
    queryKey: ['record', form, id],
    queryFn: () => get<RecordBody>(`/forms/${encodeURIComponent(form)}/records/${encodeURIComponent(id)}`),
    enabled: cached.isSuccess && !cached.data,
  })
  const here = usePosition()
  const server = cached.data ?? fetched.data
  const fs: FieldService | null = meta?.field_service ?? null
  const projected = useMemo(() => (server ? project(server, queue.data ?? [], diagram.data, fs) : null), [server, queue.data, diagram.data, fs])
  if (!server) {
    if (cached.isLoading || fetched.isLoading) return <p role="status">{t('loading')}</p>
    return <p role="alert">{online ? t('notFound') : t('notOnDevice')}</p>
  }
  const rec = projected!.record
  const user = { id: nav.data?.user.id ?? '', roles: nav.data?.user.roles ?? [] }
  const props: Record<string, JsonSchema> = schema.data?.properties ?? {}
  const label = (name: string) => unwrapNullable(props[name] ?? {}).title ?? props[name]?.title ?? name
  const state = stateOf(diagram.data, projected!.state)
  const editable = editableIn(state, rec.data, user)
  const managed = new Set([fs?.checkin?.visits_field, fs?.parts?.lines_field].filter(Boolean) as string[])
  const formFields = editable.filter((f) => props[f] && !ATTACHMENT.has(String(xType(props[f]))) && !managed.has(f))
  const photoFields = editable.filter((f) => ['image', 'file'].includes(String(xType(props[f]))))
  const signatureFields = editable.filter((f) => xType(props[f]) === 'signature')
  const site = siteOf(rec, fs)
  const title = titleOf(rec, meta)
  const due = nextDue(rec)
  const base = { form, record_id: id }
  const ahead = projected!.state !== projected!.serverState
  return (
    <article aria-labelledby="record-title" className="field">
      <p><Link to="/field">← {t('fieldApp')}</Link></p>
      <h1 id="record-title">{meta?.title ?? form} · {title}</h1>
      <p>
        {t('state')}: <strong data-testid="state" data-state={projected!.state ?? ''}>{projected!.state ? stateLabel(meta, projected!.state) : t('decidedOnSync')}</strong>
        {ahead && <> <span className="badge">{t('untilSynced')}</span></>}
        {due && <> · {t('due')} <time dateTime={due}>{formatDateTime(due)}</time></>}
      </p>
      {site && (
        <p className="row">
          <a href={mapLink(site, title)} rel="noreferrer noopener">{t('openMap')}</a>
          {here && <span data-testid="site-distance">{t('distanceToSite', { distance: formatDistance(distanceM(here, site), i18n.language) })}</span>}
        </p>
      )}
      <SyncPanel recordId={id} fieldLabel={(_f, field) => label(field)} />
      {projected!.state && <Actions stateActions={offered(state, rec.data)} fs={fs} label={label} base={base} />}
      {fs?.checkin && projected!.state && (!fs.checkin.states || fs.checkin.states.includes(projected!.state)) && (
        <Visit rec={rec} fs={fs} site={site} base={base} />
      )}
      {photoFields.map((f) => <Photos key={f} field={f} prop={props[f]} rec={rec} label={label(f)} base={base} queue={queue.data ?? []} />)}
      {fs?.parts && editable.includes(fs.parts.lines_field) && <Parts fs={fs} rec={rec} base={base} user={user.id} queue={queue.data ?? []} />}
      {formFields.length > 0 && schema.data && (
        <section className="panel" aria-labelledby="report-title">
          <h2 id="report-title">{formFields.map(label).join(' · ')}</h2>
          <RecordForm schema={schema.data} only={formFields} formData={rec.data} record={rec} submitLabel={t('save')}
            onSubmit={(data) => {
              const changed = changedFields(rec.data, data)
              if (Object.keys(changed).length) void change({ type: 'update', ...base, data: changed, base_version: server.version })
            }}>
            <button type="submit">{t('save')}</button>
          </RecordForm>
        </section>
      )}
      {signatureFields.map((f) => (
        <section key={f} className="panel" aria-labelledby={`sign-${f}`}>
          <h2 id={`sign-${f}`}>{label(f)}</h2>
          <Files rec={rec} field={f} queue={queue.data ?? []} base={base} />
          <SignaturePad label={label(f)} onSave={(file) => void change({ type: 'attach', ...base }, { blob: file, upload: { field: f, name: file.name } })} />
        </section>
      ))}
      <Facts rec={rec} props={props} label={label} skip={new Set([...editable, ...managed])} />
    </article>
  )
}

function Actions({ stateActions, fs, label, base }: {
  stateActions: ReturnType<typeof offered>; fs: FieldService | null; label: (f: string) => string; base: { form: string; record_id: string }
}) {
  const { t } = useTranslation()
  const [comment, setComment] = useState('')
  const bySteps = new Set([fs?.checkin?.on_action, fs?.checkin?.checkout_action].filter(Boolean))
  const actions = stateActions.filter((a) => !bySteps.has(a.action)) // taken by checking in / out
  if (!actions.length) return null
  const needsComment = actions.some((a) => a.comment_required)
  return (
    <section className="panel" aria-labelledby="actions-title">
      <h2 id="actions-title">{t('actions')}</h2>
      {needsComment && (
        <label className="block">{t('reasonOrComment')}<textarea rows={2} value={comment} onChange={(e) => setComment(e.target.value)} /></label>
      )}
      <div className="row">
        {actions.map((a) => (
          <span key={a.action} className="action">
            <button type="button" disabled={a.missing.length > 0 || (a.comment_required && !comment.trim())}
              onClick={() => { void change({ type: 'action', ...base, action: a.action, ...(comment.trim() ? { comment: comment.trim() } : {}) }); setComment('') }}>
              {a.label}
            </button>
            {a.missing.length > 0 && <small className="muted"> {t('requires', { fields: a.missing.map(label).join(', ') })}</small>}
            {a.comment_required && !comment.trim() && <small className="muted"> {t('commentRequired')}</small>}
          </span>
        ))}
      </div>
      <p className="muted">{t('checkedOnSync')}</p>
    </section>
  )
}

function Visit({ rec, fs, site, base }: { rec: RecordBody; fs: FieldService; site: { lat: number; lng: number } | null; base: { form: string; record_id: string } }) {
  const { t, i18n } = useTranslation()
  const checkin = fs.checkin!
  const cols = checkin.columns
  const visits: Record<string, any>[] = rec.data[checkin.visits_field] ?? []
  const open = cols ? visits.some((v) => v[cols.checked_in_at] && !v[cols.checked_out_at]) : false
  const [reason, setReason] = useState('')
  const [far, setFar] = useState<number | null>(null)
  const [problem, setProblem] = useState('')
  const [busy, setBusy] = useState(false)
  const go = async (kind: 'checkin' | 'checkout') => {
    setProblem('')
    setBusy(true)
    try {
      const at = new Date().toISOString()
      if (kind === 'checkout') return void (await change({ type: 'checkout', ...base, at }))
      const location = await currentPosition()
      const distance = site ? distanceM(location, site) : null
      if (distance !== null && distance > checkin.radius_m && !reason.trim()) return void setFar(distance) // the server would refuse it
      await change({ type: 'checkin', ...base, location, at, ...(reason.trim() ? { reason: reason.trim() } : {}) })
      setFar(null)
      setReason('')
    } catch (e) {
      setProblem(t('noPosition', { reason: (e as Error).message }))
    } finally {
      setBusy(false)
    }
  }
  return (
    <section className="panel" aria-labelledby="visit-title">
      <h2 id="visit-title">{t('visit')}</h2>
      {problem && <p role="alert" className="alert">{problem}</p>}
      {far !== null && (
        <label className="block" role="group">
          {t('tooFar', { distance: formatDistance(far, i18n.language), radius: checkin.radius_m })}
          <input value={reason} onChange={(e) => setReason(e.target.value)} aria-required="true" />
        </label>
      )}
      <div className="row">
        {!open && <button type="button" disabled={busy} onClick={() => void go('checkin')}>{t('checkIn')}</button>}
        {open && <button type="button" disabled={busy} onClick={() => void go('checkout')}>{t('checkOut')}</button>}
        {visits.length > 0 && <span className="muted">{t('visits', { count: visits.length })}</span>}
      </div>
      {cols && visits.length > 0 && (
        <ul>
          {visits.map((v, i) => (
            <li key={i}>{formatDateTime(v[cols.checked_in_at])}{v[cols.checked_out_at] ? ` – ${formatDateTime(v[cols.checked_out_at])}` : ''}
              {v[cols.distance_m] != null && ` · ${formatDistance(Number(v[cols.distance_m]), i18n.language)}`}
              {v._pending && <> · <span className="badge">{t('untilSynced')}</span></>}</li>
          ))}
        </ul>
      )}
    </section>
  )
}

/** Local files not yet up: drawn from the bytes kept on the device. */
function LocalThumb({ entry }: { entry: Queued }) {
  const [url, setUrl] = useState<string | null>(null)
  useEffect(() => {
    let made: string | null = null
    void blobOf(entry).then((blob) => { if (blob) { made = URL.createObjectURL(blob); setUrl(made) } })
    return () => { if (made) URL.revokeObjectURL(made) }
  }, [entry])
  const name = entry.upload?.name ?? ''
  return url && entry.upload?.content_type.startsWith('image/') ? <img className="thumb" src={url} alt={name} data-pending="yes" /> : <span>{name}</span>
}

function Files({ rec, field, queue, base }: { rec: RecordBody; field: string; queue: Queued[]; base: { form: string; record_id: string } }) {
  const online = useOnline()
  const value = rec.data[field]
  const items: Record<string, any>[] = (Array.isArray(value) ? value : value ? [value] : []).filter((a: any) => !a._pending)
  const local = queue.filter((e) => e.op.type === 'attach' && e.op.record_id === base.record_id && e.upload?.field === field && e.state !== 'failed')
  const path = `/forms/${encodeURIComponent(base.form)}/records/${encodeURIComponent(base.record_id)}`
  return (
    <div className="row files">
      {items.map((a) => (online ? <Preview key={a.key} base={path} item={a as any} /> : <span key={a.key}>{a.name ?? a.key.split('/').pop()}</span>))}
      {local.map((e) => <LocalThumb key={e.seq} entry={e} />)}
    </div>
  )
}

function Photos({ field, prop, rec, label, base, queue }: { field: string; prop: JsonSchema; rec: RecordBody; label: string; base: { form: string; record_id: string }; queue: Queued[] }) {
  const { t } = useTranslation()
  const p = unwrapNullable(prop)
  const multiple = p.type === 'array'
  const accept: string[] = (multiple ? p.items : p)?.properties?.content_type?.enum ?? []
  const maxEdge = Number(p['x-max-edge'] ?? prop['x-max-edge'] ?? 0)
  const inputId = `photo-${field}`
  const add = async (files: File[]) => {
    for (const file of files) {
      const reduced = await reduce(file, maxEdge, accept)
      const name = reduced.blob.type === file.type ? file.name : file.name.replace(/\.[^.]+$/, '') + '.jpg'
      await change({ type: 'attach', ...base }, { blob: reduced.blob, upload: { field, name, multiple, width: reduced.width, height: reduced.height } })
    }
  }
  return (
    <section className="panel" aria-labelledby={`${inputId}-title`}>
      <h2 id={`${inputId}-title`}>{label}</h2>
      <Files rec={rec} field={field} queue={queue} base={base} />
      <p>
        <label htmlFor={inputId}>{t('takePhoto', { field: label })}</label>{' '}
        <input id={inputId} type="file" multiple={multiple} accept={accept.join(',') || 'image/*'} capture="environment"
          onChange={(e) => { const files = Array.from(e.target.files ?? []); e.target.value = ''; void add(files) }} />
      </p>
      {maxEdge > 0 && <p className="muted">{t('photosReduced', { edge: maxEdge })}</p>}
    </section>
  )
}

function Parts({ fs, rec, base, user, queue }: { fs: FieldService; rec: RecordBody; base: { form: string; record_id: string }; user: string; queue: Queued[] }) {
  const { t } = useTranslation()
  const parts = fs.parts!
  const { van, stock, catalogue } = useVanStock(fs, user)
  const [part, setPart] = useState('')
  const [quantity, setQuantity] = useState('1')
  const name = (pid: string) => {
    const r = catalogue?.find((x) => x.id === pid)
    return r ? String(r.data.name ?? r.number ?? r.id) + (r.data.part_no ? ` (${r.data.part_no})` : '') : pid
  }
  // what the van holds now: the last stock figures less the draws still queued on this device
  const drawn = (pid: string) => queue.filter((e) => e.op.type === 'parts' && e.op.part === pid && e.state === 'pending').reduce((n, e) => n + Number(e.op.quantity ?? 0), 0)
  const choices = van ? (stock ?? []).map((s) => ({ part: s.part, left: Number(s.on_hand) - drawn(s.part) }))
    : (catalogue ?? []).map((r) => ({ part: r.id, left: null as number | null }))
  const chosen = choices.find((c) => c.part === part)
  const lines: Record<string, any>[] = rec.data[parts.lines_field] ?? []
  const cols = parts.columns
  return (
    <section className="panel" aria-labelledby="parts-title">
      <h2 id="parts-title">{t('partsFromVan')}</h2>
      {lines.length > 0 && (
        <ul aria-label={t('partsUsed')}>
          {lines.map((l, i) => <li key={l[cols.line_id ?? 'line_id'] ?? i}>{name(l[cols.part ?? 'part'])} × {String(l[cols.quantity ?? 'quantity'])}{l._pending && <> · <span className="badge">{t('untilSynced')}</span></>}</li>)}
        </ul>
      )}
      <form className="row" onSubmit={(e) => {
        e.preventDefault()
        if (!part) return
        void change({ type: 'parts', ...base, part, quantity: Number(quantity), line_id: `line-${newId().slice(0, 12)}` })
        setPart('')
        setQuantity('1')
      }}>
        <label>{t('part')}{' '}
          <select value={part} onChange={(e) => setPart(e.target.value)} required>
            <option value="">—</option>
            {choices.map((c) => <option key={c.part} value={c.part} disabled={c.left !== null && c.left <= 0}>
              {name(c.part)}{c.left !== null ? ` — ${t('inVan', { count: c.left })}` : ''}</option>)}
          </select>
        </label>
        <label>{t('quantity')} <input type="number" min={1} step={1} max={chosen?.left ?? undefined} value={quantity} onChange={(e) => setQuantity(e.target.value)} required /></label>
        <button type="submit" disabled={!part}>{t('drawPart')}</button>
      </form>
    </section>
  )
}

function Facts({ rec, props, label, skip }: { rec: RecordBody; props: Record<string, JsonSchema>; label: (f: string) => string; skip: Set<string> }) {
  const { t } = useTranslation()
  const shown = Object.keys(props).filter((k) => !skip.has(k) && !ATTACHMENT.has(String(xType(props[k]))) && rec.data[k] != null && rec.data[k] !== ''
    && !(Array.isArray(rec.data[k]) && unwrapNullable(props[k]).items?.properties))
  return (
    <section className="panel" aria-labelledby="facts-title">
      <h2 id="facts-title">{t('record')}</h2>
      <dl className="fields">
        {shown.map((k) => <div key={k}><dt>{label(k)}</dt><dd>{display(rec.data[k], props[k])}</dd></div>)}
      </dl>
    </section>
  )
}
