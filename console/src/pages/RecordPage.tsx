import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { lazy, Suspense, useState } from 'react'
import { useTranslation } from 'react-i18next'
import { Link, useParams } from 'react-router'
import Attachments from '../forms/Attachments'
import DispatchPanel from './DispatchPanel'
import FieldWork from './FieldWork'
import Incidents from './Incidents'

const WorkflowDiagram = lazy(() => import('./WorkflowDiagram')) // @xyflow/react loads with it
import RecordForm from '../forms/RecordForm'
import { changedFields, display, unwrapNullable } from '../forms/rjsf'
import { ApiError, get, patch, post } from '../lib/api'
import { formatDateTime } from '../lib/i18n'
import { fetchReport, openHtml, printHtml } from '../lib/report'
import { columnTotals, formatDuration } from '../forms/totals'
import { stateLabel, useFormMeta, useNavigation, useSchema } from '../lib/queries'
import type { ActionInfo, RecordBody } from '../lib/types'

interface ActionsBody {
  state: string
  status: string
  assignees: string[]
  actions: ActionInfo[]
  editable: { fields: string[]; comment_required: string[] }
}

interface HistoryEntry {
  seq?: number
  at?: string
  actor?: string
  kind?: string
  action?: string
  from?: string
  to?: string
  changed_fields?: string[]
  comment?: string
}

/** A deadline and the time left (or overdue), as the SLA clock the desk watches. */
function Clock({ name, due }: { name: string; due: string }) {
  const { t } = useTranslation()
  const left = new Date(due).getTime() - Date.now()
  const minutes = Math.round(Math.abs(left) / 60_000)
  const text = minutes >= 120 ? `${Math.round(minutes / 60)} h` : `${minutes} min`
  return (
    <span className={left < 0 ? 'overdue' : 'due'}>
      {name}: {left < 0 ? t('overdueBy', { time: text }) : t('dueIn', { time: text })} <time className="muted">({formatDateTime(due)})</time>
    </span>
  )
}

/** The pending approval: levels, who voted what. */
function Approval({ approval }: { approval: Record<string, any> }) {
  const { t } = useTranslation()
  const votes = Object.entries<any>(approval.votes ?? {})
  return (
    <section aria-labelledby="approval-title" className="panel">
      <h2 id="approval-title">{t('approval')}</h2>
      <p>{approval.requested_by ? t('requestedBy', { user: approval.requested_by }) : null} {approval.level !== undefined ? t('level', { level: Number(approval.level) + 1 }) : null}</p>
      {votes.length > 0 && <ul>{votes.map(([user, vote]) => <li key={user}>{user}: {typeof vote === 'string' ? vote : vote?.vote ?? JSON.stringify(vote)}</li>)}</ul>}
    </section>
  )
}

/** A sub-table's rows as a table: its columns from the schema, lookups by their titles. */
function SubTable({ prop, rows, label }: { prop: Record<string, any>; rows: Record<string, any>[]; label: string }) {
  const { t, i18n } = useTranslation()
  const items = unwrapNullable(prop).items ?? {}
  const columns = Object.keys(items.properties ?? {}).filter((c) => c !== 'line_id' && rows.some((r) => r[c] !== undefined && r[c] !== null))
  const title = (c: string) => unwrapNullable(items.properties[c]).title ?? items.properties[c]?.title ?? c
  const units = { h: t('unitHour'), min: t('unitMinute'), s: t('unitSecond') }
  const totals = columnTotals(items, rows, i18n.language, units) // only the columns the form marks `total`
  return (
    <table className="grid sub" aria-label={label} tabIndex={0}>
      <thead><tr>{columns.map((c) => <th scope="col" key={c}>{title(c)}</th>)}</tr></thead>
      <tbody>
        {rows.map((r, i) => (
          <tr key={r.line_id ?? i}>
            {columns.map((c) => {
              const column = unwrapNullable(items.properties[c] ?? {})
              return <td key={c}>{column['x-type'] === 'lookup' && r[c] ? <LookupValue form={String(column['x-reference']).replace(/^form:/, '')} id={r[c]} />
                : column['x-type'] === 'duration' && typeof r[c] === 'number' ? formatDuration(r[c], units) : display(r[c], items.properties[c])}</td>
            })}
          </tr>
        ))}
      </tbody>
      {columns.some((c) => c in totals) && (
        <tfoot>
          <tr data-testid="subtable-total">
            {columns.map((c, i) => c in totals ? <td key={c}><strong>{i === 0 ? `${t('total')}: ` : ''}{totals[c]}</strong></td>
              : i === 0 ? <th scope="row" key={c}>{t('total')}</th> : <td key={c} />)}
          </tr>
        </tfoot>
      )}
    </table>
  )
}

/** A linked record by its title, with a link to it (one read per lookup on the page, cached). */
function LookupValue({ form, id }: { form: string; id: string }) {
  const titleField = useFormMeta(form)?.title_field
  const linked = useQuery({ queryKey: ['record', form, id], queryFn: () => get<RecordBody>(`/forms/${encodeURIComponent(form)}/records/${encodeURIComponent(id)}`), retry: false })
  const name = linked.data ? String((titleField && linked.data.data[titleField]) || linked.data.data.name || linked.data.number || id) : id
  const extra = linked.data?.data.name && titleField !== 'name' ? ` · ${linked.data.data.name}` : ''
  return linked.data ? <Link to={`/forms/${form}/records/${id}`}>{name}{extra}</Link> : <>{id}</>
}

export default function RecordPage() {
  const { form = '', id = '' } = useParams()
  const { t } = useTranslation()
  const queries = useQueryClient()
  const nav = useNavigation()
  const schema = useSchema(form)
  const meta = useFormMeta(form)
  const base = `/forms/${encodeURIComponent(form)}/records/${encodeURIComponent(id)}`
  const record = useQuery({ queryKey: ['record', form, id], queryFn: () => get<RecordBody>(base) })
  const hasWorkflow = !!record.data?.workflow
  const actions = useQuery({ queryKey: ['actions', form, id], queryFn: () => get<ActionsBody>(`${base}/actions`), enabled: hasWorkflow })
  const history = useQuery({ queryKey: ['history', form, id], queryFn: () => get<{ items: HistoryEntry[] }>(`${base}/history`), enabled: hasWorkflow })
  const [editing, setEditing] = useState(false)
  const [comment, setComment] = useState('')
  const [diagram, setDiagram] = useState(false)
  const [reportError, setReportError] = useState<string | null>(null)
  const refresh = () => {
    for (const key of [['record', form, id], ['actions', form, id], ['history', form, id], ['tasks'], ['records', form]]) void queries.invalidateQueries({ queryKey: key })
  }
  const save = useMutation({
    mutationFn: (data: Record<string, any>) => patch(base, { version: record.data!.version, data: changedFields(record.data!.data, data), ...(comment ? { comment } : {}) }),
    onSuccess: () => { setEditing(false); setComment(''); refresh() },
    // someone (or the platform, e.g. a mail result) changed the record meanwhile: load the new version;
    // the edits stay in the form, and saving again applies them to it (the conflict message says so)
    onError: (e) => { if (e instanceof ApiError && e.code === 'version_conflict') refresh() },
  })
  const act = useMutation({
    mutationFn: (name: string) => post(`${base}/actions/${encodeURIComponent(name)}`, { version: record.data!.version, ...(comment ? { comment } : {}) }),
    onSuccess: () => { setComment(''); refresh() },
  })
  if (record.isLoading || schema.isLoading) return <p role="status">{t('loading')}</p>
  if (record.error) return <p role="alert">{(record.error as ApiError).status === 404 ? t('notFound') : (record.error as Error).message}</p>
  const rec = record.data!
  const props: Record<string, any> = schema.data?.properties ?? {}
  const title = (meta?.title_field && rec.data[meta.title_field]) || rec.number || rec.id
  const editable = hasWorkflow ? actions.data?.editable.fields ?? [] : Object.keys(props).filter((k) => !unwrapNullable(props[k]).readOnly)
  const deadlineLabel = (timer: string) => { const key = timer.split(':').pop() ?? timer; return meta?.deadlines?.[key] ?? key }
  const actionLabel = (action: string) => meta?.actions?.[action] ?? t(`vote.${action}`, { defaultValue: action })
  const label = (name: string) => unwrapNullable(props[name] ?? {}).title ?? props[name]?.title ?? name
  const problem = (save.error ?? act.error) as ApiError | null
  const fieldService = meta?.field_service ?? null
  // the workflow's deadlines (reminders are the platform's own business)
  const clocks = (rec.workflow?.timers ?? []).filter((x) => !/remind/.test(x.name.split(':')[0]))
  // an action that needs a user field the caller may set now: the dispatch panel can fill it
  const userFields = Object.keys(props).filter((k) => unwrapNullable(props[k])['x-type'] === 'user')
  const dispatchAction = (() => {
    for (const a of actions.data?.actions ?? []) {
      const field = a.requires.find((f) => userFields.includes(f))
      if (field && !a.comment_required) return { action: a, field }
    }
    return null
  })()
  const attachmentFields = Object.keys(props).filter((k) => ['image', 'file', 'signature'].includes(unwrapNullable(props[k])['x-type'] ?? props[k]['x-type']))
  const report = async (show: (html: string) => void) => {
    // the report needs the bearer token: fetched here, then shown from a Blob URL or printed (no token in any URL)
    setReportError(null)
    try {
      show(await fetchReport(base))
    } catch (error) {
      setReportError((error as Error).message)
    }
  }
  return (
    <article aria-labelledby="record-title">
      <h1 id="record-title">{meta?.title ?? form} · {String(title)}</h1>
      <p className="muted">
        {t('version', { version: rec.version })}
        {rec.workflow && <> · {t('state')}: <strong data-testid="state" data-state={rec.workflow.state}>{stateLabel(meta, rec.workflow.state)}</strong> ({t(`workflowStatus.${rec.workflow.status}`, { defaultValue: rec.workflow.status })})</>}
      </p>
      {clocks.length > 0 && (
        <ul className="row sla" aria-label={t('deadlines')}>
          {clocks.map((timer) => <li key={timer.name}><Clock name={deadlineLabel(timer.name)} due={timer.due_at} /></li>)}
        </ul>
      )}
      {rec.workflow && (
        <Incidents base={base} timers={rec.workflow.timers ?? []} admin={(nav.data?.user.roles ?? []).includes('admin')}
          label={deadlineLabel} onChange={refresh} />
      )}
      {rec.workflow?.approval && <Approval approval={rec.workflow.approval} />}
      {problem && (
        <div role="alert" className="alert">
          {problem.code === 'version_conflict' ? t('conflict') : problem.message}
          {problem.details.filter((d) => !d.path.startsWith('data.')).map((d) => <div key={d.path + d.message}>{d.path}: {d.message}</div>)}
        </div>
      )}
      {hasWorkflow && (
        <section aria-labelledby="actions-title" className="panel">
          <h2 id="actions-title">{t('actions')}</h2>
          {actions.data && actions.data.actions.length === 0 && <p>{t('noActions')}</p>}
          {actions.data && actions.data.actions.length > 0 && (
            <>
              <label className="block">
                {t('comment')}
                <textarea value={comment} onChange={(e) => setComment(e.target.value)} rows={2} />
              </label>
              <div className="row">
                {actions.data.actions.map((a) => (
                  <span key={a.action} className="action">
                    <button type="button" disabled={act.isPending || (a.comment_required && !comment.trim())} onClick={() => act.mutate(a.action)}>
                      {a.label === a.action ? actionLabel(a.action) : a.label /* an approval's votes come unlabelled: the console's words */}
                    </button>
                    {a.missing.length > 0 && <small className="muted"> {t('requires', { fields: a.missing.map(label).join(', ') })}</small>}
                    {a.comment_required && !comment.trim() && <small className="muted"> {t('commentRequired')}</small>}
                  </span>
                ))}
              </div>
            </>
          )}
        </section>
      )}
      {fieldService && rec.workflow?.status === 'running' && rec.data[fieldService.engineer_field] === nav.data?.user.id
        && (!fieldService.checkin?.states || fieldService.checkin.states.includes(rec.workflow.state)) && (
        <FieldWork base={base} rec={rec} settings={fieldService} onDone={refresh} />
      )}
      {dispatchAction && (
        <DispatchPanel base={base} version={rec.version} assignField={dispatchAction.field} action={dispatchAction.action}
          canEditField={editable.includes(dispatchAction.field)} onDone={refresh} />
      )}
      <section aria-labelledby="fields-title" className="panel">
        <div className="row">
          <h2 id="fields-title">{t('record')}</h2>
          <span className="spacer" />
          {!editing && editable.some((k) => !attachmentFields.includes(k)) && meta?.can_update && <button type="button" onClick={() => setEditing(true)}>{t('edit')}</button>}
        </div>
        {hasWorkflow && actions.data && (
          <p className="muted">{editable.length ? t('fieldsYouMayEdit', { fields: editable.map(label).join(', ') }) : t('nothingToEdit')}</p>
        )}
        {editing && schema.data ? (
          <RecordForm schema={schema.data} only={editable} formData={rec.data} record={rec} problems={save.error ? (save.error as ApiError).details : undefined}
            submitLabel={t('save')} busy={save.isPending} onSubmit={(data) => save.mutate(data)}>
            <div className="row">
              <button type="submit" disabled={save.isPending}>{t('save')}</button>
              <button type="button" onClick={() => setEditing(false)}>{t('cancel')}</button>
            </div>
          </RecordForm>
        ) : (
          <dl className="fields">
            {Object.keys(props).filter((k) => !attachmentFields.includes(k) && rec.data[k] !== undefined && rec.data[k] !== null && rec.data[k] !== '').map((k) => (
              <div key={k}>
                <dt>{label(k)}</dt>
                <dd>{Array.isArray(rec.data[k]) && unwrapNullable(props[k]).items?.properties ? <SubTable prop={props[k]} rows={rec.data[k]} label={label(k)} />
                  : unwrapNullable(props[k])['x-type'] === 'lookup' ? <LookupValue form={String(unwrapNullable(props[k])['x-reference']).replace(/^form:/, '')} id={rec.data[k]} /> : display(rec.data[k], props[k])}</dd>
              </div>
            ))}
          </dl>
        )}
      </section>
      {attachmentFields.length > 0 && (
        <section aria-labelledby="files-title" className="panel">
          <div className="row">
            <h2 id="files-title">{t('attachments')}</h2>
            <span className="spacer" />
            {hasWorkflow && <button type="button" onClick={() => void report(openHtml)}>{t('serviceReport')}</button>}
            {hasWorkflow && <button type="button" onClick={() => void report(printHtml)}>{t('printReport')}</button>}
          </div>
          {reportError && <p role="alert" className="alert">{reportError}</p>}
          {attachmentFields.map((k) => (
            <Attachments key={k} base={base} field={k} prop={props[k]} value={rec.data[k]} version={rec.version}
              canUpload={!!meta?.can_update && editable.includes(k)} onDone={refresh} />
          ))}
        </section>
      )}
      {rec.workflow && (
        <details className="panel" onToggle={(e) => setDiagram((e.target as HTMLDetailsElement).open)}>
          <summary>{t('showDiagram')}</summary>
          {diagram && ( // drawn once open: the diagram fits a box it can measure
            <Suspense fallback={<p role="status">{t('loading')}</p>}>
              <WorkflowDiagram workflow={(rec.workflow as any).workflow ?? form} current={rec.workflow.state} />
            </Suspense>
          )}
        </details>
      )}
      {hasWorkflow && history.data && (
        <section aria-labelledby="history-title" className="panel">
          <h2 id="history-title">{t('history')}</h2>
          <ol className="timeline">
            {history.data.items.map((h, i) => (
              <li key={h.seq ?? i}>
                <time>{formatDateTime(h.at)}</time>{' '}
                <strong>{h.action ? actionLabel(h.action) : t(`event.${h.kind}`, { defaultValue: h.kind ?? '' })}</strong>
                {h.from && h.to && <> · {stateLabel(meta, h.from)} → {stateLabel(meta, h.to)}</>}
                {h.actor && <> · {t('by', { user: h.actor })}</>}
                {h.changed_fields && h.changed_fields.length > 0 && <> · {t('changed', { fields: h.changed_fields.map(label).join(', ') })}</>}
                {h.comment && <blockquote>{h.comment}</blockquote>}
              </li>
            ))}
          </ol>
        </section>
      )}
    </article>
  )
}
