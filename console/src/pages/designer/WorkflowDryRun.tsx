// The workflow designer's dry run: a record of the form (searched among its recent records), an action
// the DRAFT offers in the state it rests in, optional values, who takes it — then what the server's
// engine would do on the draft (POST /workflows/{name}/dry-run): the path (how each Choice chose), where
// the record comes to rest, tasks and who they are, timers, changed values, effects, and the problems
// at the fields they concern. Nothing is written, neither the record nor the draft.
import { useQuery } from '@tanstack/react-query'
import { useMemo, useState } from 'react'
import { useTranslation } from 'react-i18next'
import { ApiError, get, post } from '../../lib/api'
import { formatDateTime } from '../../lib/i18n'
import './WorkflowDryRun.css'
import { labelOf, type WorkflowDef } from './WorkflowModel'
import type { FormField } from './WorkflowStatePanel'
import {
  assigneeOf, draftActions, effectLine, pathLines, problemsByField, recordLine, recordMatches, shownValue, userAssignees, valuesToSend,
  type DryRunResult, type ListedRecord,
} from './WorkflowDryRunModel'

interface Props {
  name: string
  def: WorkflowDef
  fields: FormField[]
  titleField?: string
}

const RECENT = 50 // records offered in the picker: the newest of the form (the list API's order)

export default function WorkflowDryRun({ name, def, fields, titleField }: Props) {
  const { t, i18n } = useTranslation()
  const language = i18n.language
  const records = useQuery({
    queryKey: ['designer', 'dry-run-records', name],
    queryFn: () => get<{ items: ListedRecord[] }>(`/forms/${encodeURIComponent(name)}/records?limit=${RECENT}`),
    staleTime: 30_000,
  })
  const [query, setQuery] = useState('')
  const [recordId, setRecordId] = useState('')
  const [action, setAction] = useState('')
  const [actor, setActor] = useState('')
  const [values, setValues] = useState<Record<string, string>>({})
  const [comment, setComment] = useState('')
  const [running, setRunning] = useState(false)
  const [result, setResult] = useState<DryRunResult | null>(null)
  const [error, setError] = useState<ApiError | null>(null)

  const items = records.data?.items ?? []
  const shown = items.filter((r) => recordMatches(r, query) || r.id === recordId)
  const record = items.find((r) => r.id === recordId)
  const state = record?.workflow?.state ?? ''
  const actions = record ? draftActions(def, state, language) : null
  const chosen = actions?.find((a) => a.action === action)
  const byField = useMemo(() => Object.fromEntries(fields.map((f) => [f.name, f])), [fields])
  const fieldLabel = (n: string) => { const f = byField[n]; return f ? f.translations?.[language]?.label || f.label || n : n }
  const placed = problemsByField(result?.problems ?? [])
  const suggested = userAssignees(record)

  const reset = () => { setResult(null); setError(null) }
  const pickRecord = (id: string) => {
    setRecordId(id)
    setAction('')
    setValues({})
    setActor(userAssignees(items.find((r) => r.id === id))[0] ?? '')
    reset()
  }
  const pickAction = (a: string) => {
    setAction(a)
    const needs = actions?.find((x) => x.action === a)?.requires ?? []
    // the action's required fields, those the record has no value for, ready to be filled in
    setValues(Object.fromEntries(needs.filter((f) => record && (record.data[f] === undefined || record.data[f] === null || record.data[f] === '')).map((f) => [f, ''])))
    reset()
  }
  const run = async () => {
    if (!record || !action) return
    setRunning(true)
    reset()
    try {
      const typed = Object.fromEntries(Object.entries(values).filter(([, v]) => v.trim() !== ''))
      const body: Record<string, unknown> = { record_id: record.id, action, definition: def }
      if (Object.keys(typed).length) body.data = valuesToSend(typed, fields)
      if (comment.trim()) body.comment = comment
      if (actor.trim()) body.as_user = actor.trim()
      setResult(await post<DryRunResult>(`/workflows/${encodeURIComponent(name)}/dry-run`, body))
    } catch (e) {
      setError(e as ApiError)
    } finally {
      setRunning(false)
    }
  }
  const who = (key: string) => {
    const a = assigneeOf(key)
    return a.role ? t('flowDryRun.roleOf', { role: a.role }) : a.user ?? key
  }
  // states named in the reader's language from the draft (the server's label when the draft has changed since)
  const stateName = (s: string, label: string) => {
    const shown = def.States?.[s] ? labelOf(def, s, language) : label
    return shown && shown !== s ? `${shown} (${s})` : s
  }
  const id = (part: string) => `wf-dry-${part}`

  return (
    <section className="wf-dryrun" aria-labelledby={id('title')}>
      <h3 id={id('title')}>{t('flowDryRun.title')}</h3>
      <p className="muted">{t('flowDryRun.intro')}</p>
      <div className="wf-dry-form">
        <label htmlFor={id('find')}>{t('flowDryRun.find')}</label>
        <input id={id('find')} type="search" value={query} onChange={(e) => setQuery(e.target.value)} />
        <label htmlFor={id('record')}>{t('flowDryRun.record')}</label>
        <select id={id('record')} value={recordId} onChange={(e) => pickRecord(e.target.value)}>
          <option value="">{records.isLoading ? t('loading') : t('flowDryRun.chooseRecord', { count: shown.length })}</option>
          {shown.map((r) => <option key={r.id} value={r.id}>{recordLine(r, def, language, titleField)}</option>)}
        </select>
        {records.error && <p role="alert" className="alert">{(records.error as ApiError).message}</p>}
        {record && actions === null && (
          <p className="error" role="alert">{t('flowDryRun.notInDraft', { state })}</p>
        )}
        {record && actions && (
          <>
            <label htmlFor={id('action')}>{t('flowDryRun.action', { state: stateName(state, labelOf(def, state, language)) })}</label>
            <select id={id('action')} value={action} onChange={(e) => pickAction(e.target.value)}>
              <option value="">{actions.length ? t('flowDryRun.chooseAction') : t('flowDryRun.noActions')}</option>
              {actions.map((a) => (
                <option key={a.action} value={a.action}>
                  {a.label === a.action ? a.action : `${a.label} (${a.action})`}{a.next ? ` → ${a.next}` : ''}{a.conditional ? ` · ${t('flowDryRun.conditional')}` : ''}
                </option>
              ))}
            </select>
            <label htmlFor={id('actor')}>{t('flowDryRun.actor')}</label>
            <input id={id('actor')} list={id('actors')} value={actor} placeholder={t('flowDryRun.actorYou')}
              aria-describedby={id('actor-help')} onChange={(e) => { setActor(e.target.value); reset() }} />
            <datalist id={id('actors')}>{suggested.map((u) => <option key={u} value={u} />)}</datalist>
            <span id={id('actor-help')} className="muted">{t('flowDryRun.actorHelp', { users: suggested.join(', ') || '—' })}</span>
          </>
        )}
      </div>
      {record && chosen && (
        <fieldset className="wf-dry-values">
          <legend>{t('flowDryRun.values')}</legend>
          {Object.keys(values).length === 0 && <p className="muted">{t('flowDryRun.noValues')}</p>}
          {Object.entries(values).map(([f, v]) => {
            const here = placed.fields[f] ?? []
            return (
              <div key={f} className="wf-dry-value">
                <label htmlFor={id(`v-${f}`)}>{fieldLabel(f)} <code>{f}</code>{chosen.requires.includes(f) ? ` · ${t('flowDryRun.required')}` : ''}</label>
                <input id={id(`v-${f}`)} value={v} onChange={(e) => setValues({ ...values, [f]: e.target.value })}
                  aria-invalid={here.length ? true : undefined} aria-describedby={here.length ? id(`e-${f}`) : undefined} />
                <button type="button" onClick={() => { const { [f]: _gone, ...rest } = values; setValues(rest) }}>{t('flowDryRun.removeValue', { field: fieldLabel(f) })}</button>
                {here.length > 0 && <p id={id(`e-${f}`)} className="error">{here.map((p) => p.message).join('; ')}</p>}
              </div>
            )
          })}
          <label htmlFor={id('add')}>{t('flowDryRun.addValue')}</label>
          <select id={id('add')} value="" onChange={(e) => e.target.value && setValues({ ...values, [e.target.value]: '' })}>
            <option value="">{t('flowDryRun.chooseField')}</option>
            {fields.filter((f) => !(f.name in values) && !['computed', 'auto_number', 'subtable'].includes(f.type)).map((f) => (
              <option key={f.name} value={f.name}>{fieldLabel(f.name)} ({f.name})</option>
            ))}
          </select>
          <label htmlFor={id('comment')}>{t('flowDryRun.comment')}{chosen.commentRequired ? ` · ${t('flowDryRun.required')}` : ''}</label>
          <textarea id={id('comment')} rows={2} value={comment} onChange={(e) => setComment(e.target.value)} />
        </fieldset>
      )}
      <button type="button" className="primary" onClick={run} disabled={!record || !chosen || running}>{t('flowDryRun.run')}</button>
      <div role="status" aria-live="polite" className="wf-dry-status">
        {running ? t('flowDryRun.running') : result ? (result.allowed ? t('flowDryRun.allowed', { state: result.end?.state ?? '' }) : t('flowDryRun.refused')) : ''}
      </div>
      {error && (
        <div role="alert" className="alert">
          <p>{error.code === 'draft_invalid' ? t('flowDryRun.draftInvalid') : error.message}</p>
          {error.details.length > 0 && <ul>{error.details.map((d, i) => <li key={i}><code>{d.path || '—'}</code> {d.message}</li>)}</ul>}
        </div>
      )}
      {result && <Result result={result} who={who} stateName={stateName} fieldLabel={fieldLabel} other={placed.other} recordNumber={record?.number ?? result.record.id} />}
    </section>
  )
}

function Result({ result, who, stateName, fieldLabel, other, recordNumber }: {
  result: DryRunResult
  who: (key: string) => string
  stateName: (s: string, label: string) => string
  fieldLabel: (f: string) => string
  other: DryRunResult['problems']
  recordNumber: string
}) {
  const { t } = useTranslation()
  const kind = (type: string) => t(`stateType.${type}`, { defaultValue: type })
  const problems = result.problems
  const timerName = (x: DryRunResult['timers']['set'][number]) =>
    x.kind === 'remind' || x.kind === 'slaremind' ? t('flowDryRun.reminderOf', { label: x.label }) : x.label
  return (
    <div className="wf-dry-result" aria-labelledby="wf-dry-result-title">
      <h4 id="wf-dry-result-title">{t('flowDryRun.resultTitle', { action: result.action, user: result.actor.user, record: recordNumber })}</h4>
      {problems.length > 0 && (
        <ul aria-label={t('flowDryRun.problems')} className="wf-dry-problems">
          {problems.map((p, i) => (
            <li key={i} className="error" data-testid="dry-problem">
              <strong>{t(`flowDryRun.kind_${p.kind}`, { defaultValue: p.kind })}</strong>: <code>{p.path || '—'}</code> {p.message}
              {p.summary && p.summary !== p.message ? ` (${p.summary})` : ''}
              {other.includes(p) ? '' : ` · ${t('flowDryRun.atField', { field: fieldLabel(p.path.replace(/^data\./, '').split(/[.[]/)[0]) })}`}
            </li>
          ))}
        </ul>
      )}
      {result.allowed && (
        <>
          <h5>{t('flowDryRun.path')}</h5>
          <ol className="wf-dry-path" aria-label={t('flowDryRun.path')}>
            {pathLines(result).map((line, i) => (
              <li key={i} data-testid="dry-step">
                <strong>{stateName(line.state, line.label)}</strong> <span className="muted">({kind(line.type)})</span>
                {line.how === 'start' && ` — ${t('flowDryRun.restsNow')}`}
                {line.how === 'rule' && ` — ${t('flowDryRun.ruleMatched', { n: line.rule, rule: line.text })} → ${line.next}`}
                {line.how === 'default' && ` — ${t('flowDryRun.noRuleDefault')} → ${line.next}`}
                {line.how === 'none' && ` — ${t('flowDryRun.noRuleNoDefault')}`}
                {line.how === 'steps' && ` — ${line.text}`}
                {line.how === 'caught' && ` — ${t('flowDryRun.caught', { error: line.text, next: line.next ?? '—' })}`}
              </li>
            ))}
          </ol>
          {result.end && (
            <p data-testid="dry-end">
              {t('flowDryRun.endsIn')}: <strong>{stateName(result.end.state, result.end.label)}</strong> ({kind(result.end.type)}, {t(`flowDryRun.status_${result.end.status}`, { defaultValue: result.end.status })})
            </p>
          )}
          <h5>{t('flowDryRun.tasks')}</h5>
          {result.tasks.length === 0 ? <p className="muted">{t('flowDryRun.noTasks')}</p> : (
            <table className="grid" aria-label={t('flowDryRun.tasks')}>
              <thead><tr><th scope="col">{t('flowDryRun.assignee')}</th><th scope="col">{t('flowDryRun.members')}</th><th scope="col">{t('flowDryRun.due')}</th></tr></thead>
              <tbody>
                {result.tasks.map((task) => (
                  <tr key={task.assignee} data-testid="dry-task">
                    <th scope="row">{who(task.assignee)}{task.kind === 'approval' ? ` · ${t('flowDryRun.approvalSeat')}` : ''}</th>
                    <td>{task.members.join(', ') || t('flowDryRun.nobody')}{task.members_more ? ` +${task.members_more}` : ''}</td>
                    <td>{task.due_at ? formatDateTime(task.due_at) : '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <h5>{t('flowDryRun.timers')}</h5>
          {result.timers.set.length + result.timers.cleared.length === 0 ? <p className="muted">{t('flowDryRun.noTimers')}</p> : (
            <ul aria-label={t('flowDryRun.timers')}>
              {result.timers.set.map((x) => <li key={`s${x.name}`}>{t('flowDryRun.timerSet', { label: timerName(x), due: formatDateTime(x.due_at) })}</li>)}
              {result.timers.cleared.map((x) => <li key={`c${x.name}`} className="muted">{t('flowDryRun.timerCleared', { label: timerName(x) })}</li>)}
            </ul>
          )}
          <h5>{t('flowDryRun.changes')}</h5>
          {result.changes.length === 0 ? <p className="muted">{t('flowDryRun.noChanges')}</p> : (
            <table className="grid" aria-label={t('flowDryRun.changes')}>
              <thead><tr><th scope="col">{t('flowDryRun.field')}</th><th scope="col">{t('flowDryRun.before')}</th><th scope="col">{t('flowDryRun.after')}</th></tr></thead>
              <tbody>
                {result.changes.map((c) => (
                  <tr key={c.field} data-testid="dry-change"><th scope="row">{fieldLabel(c.field)} <code>{c.field}</code></th><td>{shownValue(c.before)}</td><td>{shownValue(c.after)}</td></tr>
                ))}
              </tbody>
            </table>
          )}
          <h5>{t('flowDryRun.effects')}</h5>
          <ul aria-label={t('flowDryRun.effects')}>
            {result.effects.map((e, i) => (
              <li key={i} data-testid="dry-effect"><strong>{t(`flowDryRun.effect_${e.kind}`, { defaultValue: e.kind })}</strong>: {effectLine(e, t, result, who)}</li>
            ))}
          </ul>
        </>
      )}
      <p className="muted">{t('flowDryRun.nothingWritten', { version: result.record.version })}</p>
    </div>
  )
}
