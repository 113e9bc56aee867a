import { keepPreviousData, useQuery } from '@tanstack/react-query'
import { useState } from 'react'
import { useTranslation } from 'react-i18next'
import { Link, useParams, useSearchParams } from 'react-router'
import { display } from '../forms/rjsf'
import { get, qs } from '../lib/api'
import { useFormMeta, useNavigation, useSchema } from '../lib/queries'
import type { RecordBody } from '../lib/types'

const PAGE = 25

/** One API call per page of records (the list route returns the page; the cursor the next one). */
export default function RecordList() {
  const { form = '' } = useParams()
  const { t } = useTranslation()
  const nav = useNavigation()
  const schema = useSchema(form)
  const [params, setParams] = useSearchParams()
  const [cursors, setCursors] = useState<string[]>([])
  const meta = useFormMeta(form)
  const filters = Object.fromEntries([...params.entries()].filter(([k]) => k.startsWith('filter.')))
  const cursor = cursors[cursors.length - 1]
  const page = useQuery({
    queryKey: ['records', form, filters, cursor],
    queryFn: () => get<{ items: RecordBody[]; next_cursor: string | null; titles?: Record<string, string> }>(`/forms/${encodeURIComponent(form)}/records${qs({ limit: PAGE, ...filters, cursor })}`),
    placeholderData: keepPreviousData,
  })
  if (nav.data && !meta) return <p role="alert">{t('notFound')}</p>
  const props = schema.data?.properties ?? {}
  const titles = page.data?.titles ?? {}
  // a lookup shows the linked record's title (the page brings them: no call per row)
  const cell = (name: string, value: unknown) => (typeof value === 'string' && titles[value]) || display(value, props[name])
  const setFilter = (name: string, value: string) => {
    const next = new URLSearchParams(params)
    if (value) next.set(`filter.${name}`, value)
    else next.delete(`filter.${name}`)
    setCursors([])
    setParams(next)
  }
  return (
    <section aria-labelledby="list-title">
      <div className="row">
        <h1 id="list-title">{meta?.title ?? form}</h1>
        <span className="spacer" />
        {meta?.workflow && <Link className="button" to={`/forms/${form}/board`}>{t('board')}</Link>}
        {meta?.can_create && <Link className="button" to={`/forms/${form}/new`}>{t('newRecord')}</Link>}
      </div>
      {meta && meta.filters.length > 0 && (
        <form className="filters" aria-label={t('filter')} onSubmit={(e) => e.preventDefault()}>
          {meta.filters.map((f) => (
            <label key={f.name}>
              {f.label}{' '}
              {f.options ? (
                <select value={params.get(`filter.${f.name}`) ?? ''} onChange={(e) => setFilter(f.name, e.target.value)}>
                  <option value="">{t('any')}</option>
                  {f.options.map((o) => <option key={o.value} value={o.value}>{o.label || o.value}</option>)}
                </select>
              ) : (
                <input defaultValue={params.get(`filter.${f.name}`) ?? ''} onBlur={(e) => setFilter(f.name, e.target.value.trim())} />
              )}
            </label>
          ))}
        </form>
      )}
      {page.isLoading && <p role="status">{t('loading')}</p>}
      {page.error && <p role="alert">{t('error', { message: (page.error as Error).message })}</p>}
      {page.data && page.data.items.length === 0 && <p>{t('noRecords')}</p>}
      {page.data && page.data.items.length > 0 && meta && (
        <table className="grid">
          <thead>
            <tr>
              {meta.columns.map((c) => <th scope="col" key={c.name}>{c.label}</th>)}
              <th scope="col">{t('state')}</th>
            </tr>
          </thead>
          <tbody>
            {page.data.items.map((r) => (
              <tr key={r.id}>
                {meta.columns.map((c, i) => (
                  <td key={c.name}>
                    {i === 0 ? <Link to={`/forms/${form}/records/${r.id}`}>{cell(c.name, r.data[c.name]) || r.number || r.id}</Link>
                      : cell(c.name, r.data[c.name])}
                  </td>
                ))}
                <td>{r.workflow?.state ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div className="row">
        {cursors.length > 0 && <button type="button" onClick={() => setCursors([])}>{t('previous')}</button>}
        {page.data?.next_cursor && <button type="button" onClick={() => setCursors([...cursors, page.data!.next_cursor!])}>{t('next')}</button>}
      </div>
    </section>
  )
}
