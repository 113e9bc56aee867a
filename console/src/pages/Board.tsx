import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { useState } from 'react'
import { useTranslation } from 'react-i18next'
import { Link, useParams } from 'react-router'
import { ApiError, get, post } from '../lib/api'
import { useFormMeta } from '../lib/queries'
import type { ActionInfo, RecordBody } from '../lib/types'

const PAGE = 100

/** A form's records by workflow state. Dropping a card on another column takes the action that leads
 *  there, when the record offers exactly one to the caller now (else the record page explains why).
 *  Each card also has a "move to" menu: the same, without a mouse. One list call per page of records. */
export default function Board() {
  const { form = '' } = useParams()
  const { t } = useTranslation()
  const queries = useQueryClient()
  const meta = useFormMeta(form)
  const [message, setMessage] = useState('')
  const records = useQuery({
    queryKey: ['records', form, 'board'],
    queryFn: () => get<{ items: RecordBody[]; next_cursor: string | null }>(`/forms/${encodeURIComponent(form)}/records?limit=${PAGE}`),
  })
  const move = useMutation({
    mutationFn: async ({ rec, to }: { rec: RecordBody; to: string }) => {
      const base = `/forms/${encodeURIComponent(form)}/records/${encodeURIComponent(rec.id)}`
      const offered = await get<{ actions: ActionInfo[]; version: number }>(`${base}/actions`)
      const leading = offered.actions.filter((a) => a.next === to)
      if (leading.length !== 1) throw new Error(t('noMoveTo', { state: columns.find((c) => c.name === to)?.label ?? to }))
      const action = leading[0]
      if (action.missing.length || action.comment_required) throw new Error(t('moveNeedsMore', { action: action.label }))
      return post(`${base}/actions/${encodeURIComponent(action.action)}`, { version: offered.version })
    },
    onSuccess: () => { setMessage(''); void queries.invalidateQueries({ queryKey: ['records', form] }); void queries.invalidateQueries({ queryKey: ['tasks'] }) },
    onError: (e) => setMessage(e instanceof ApiError ? e.message : (e as Error).message),
  })
  if (!meta) return <p role="status">{t('loading')}</p>
  const columns = meta.states
  const title = (r: RecordBody) => String((meta.title_field && r.data[meta.title_field]) || r.number || r.id)
  return (
    <section aria-labelledby="board-title">
      <div className="row">
        <h1 id="board-title">{meta.title} · {t('board')}</h1>
        <span className="spacer" />
        <Link className="button" to={`/forms/${form}/dispatch`}>{t('batchDispatch')}</Link>
      </div>
      {message && <p role="alert" className="alert">{message}</p>}
      {records.isLoading && <p role="status">{t('loading')}</p>}
      <div className="board">
        {columns.map((col) => {
          const cards = (records.data?.items ?? []).filter((r) => r.workflow?.state === col.name)
          return (
            <section key={col.name} className="column" aria-label={col.label ?? col.name} data-state={col.name}
              onDragOver={(e) => e.preventDefault()}
              onDrop={(e) => {
                const id = e.dataTransfer.getData('text/plain')
                const rec = records.data?.items.find((r) => r.id === id)
                if (rec && rec.workflow?.state !== col.name) move.mutate({ rec, to: col.name })
              }}>
              <h2>{col.label ?? col.name} <span className="muted">({cards.length})</span></h2>
              <ul>
                {cards.map((r) => (
                  <li key={r.id} className="card" draggable onDragStart={(e) => e.dataTransfer.setData('text/plain', r.id)}>
                    <Link to={`/forms/${form}/records/${r.id}`}>{title(r)}</Link>
                    <label className="block">
                      <span className="sr-only">{t('moveTo')} {title(r)}</span>
                      <select value="" onChange={(e) => e.target.value && move.mutate({ rec: r, to: e.target.value })} disabled={move.isPending}>
                        <option value="">{t('moveTo')}…</option>
                        {columns.filter((c) => c.name !== col.name).map((c) => <option key={c.name} value={c.name}>{c.label ?? c.name}</option>)}
                      </select>
                    </label>
                  </li>
                ))}
              </ul>
            </section>
          )
        })}
      </div>
      {records.data?.next_cursor && <p className="muted">{t('boardShowsNewest', { count: PAGE })}</p>}
    </section>
  )
}
