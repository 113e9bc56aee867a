import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { useEffect, useMemo, useState, type ReactNode } from 'react'
import { useTranslation } from 'react-i18next'
import { Link, useNavigate, useParams } from 'react-router'
import { ApiError, get, post, type Problem } from '../../lib/api'
import { useNavigation } from '../../lib/queries'
import { ChartView, RowsTable, type Preview } from './ReportChart'
import {
  BUCKETS, CHART_TYPES, DATE_TYPES, NAME, OPS, UNITS, emptyDraft, newDimension, newKey, newMeasure, controlIds, problemsByControl, toDefinition, toDraft,
  usedNames, type ChartType, type DraftDimension, type DraftMeasure, type Json, type ReportDraft,
} from './ReportDraft'
import './ReportDesigner.css'
import { useDebounced } from '../../lib/useDebounced'

// The report designer (issue 15): a report built from controls — its form, dimensions (a field and, for
// a date, a time bucket), measures (op + field), filter, scope, sort and limit, labels in en and zh-CN. As
// the author edits, the draft is computed (debounced) by POST /reports/{name}/preview over the form's
// newest records, drawn as a chart with its rows beside it; the server's problems are shown at the
// control they concern. Save = a new version, published.

interface FormField { name: string; type: string; label?: string }
interface Head { latest: number; published: number | null }
const RECORD_FIELDS = ['$state', '$created_at', '$updated_at']

export { useDebounced } from '../../lib/useDebounced'

/** The published form's top-level fields (name, type, label) the pickers offer. */
export function useFormFields(form: string) {
  return useQuery({
    queryKey: ['reportDesigner', 'form', form],
    enabled: !!form,
    staleTime: 60_000,
    queryFn: async () => {
      const head = await get<Head>(`/definitions/form/${encodeURIComponent(form)}`)
      if (!head.published) return [] as FormField[]
      const body = await get<{ definition: { fields?: FormField[] } }>(`/definitions/form/${encodeURIComponent(form)}/versions/${head.published}`)
      return (body.definition.fields ?? []).filter((f) => f.type !== 'subtable')
    },
  })
}

/** Problems shown at a control: its props (id, aria-invalid, aria-describedby) and the message element. */
function useProblemAt(problems: Record<string, string[]>) {
  return (id: string) => {
    const mine = problems[id] ?? []
    return {
      props: { id, 'aria-invalid': mine.length ? (true as const) : undefined, 'aria-describedby': mine.length ? `${id}-problem` : undefined },
      message: mine.length ? <div id={`${id}-problem`} className="rd-problem" role="alert">{mine.map((m, i) => <div key={i}>{m}</div>)}</div> : null,
    }
  }
}

function Prop({ label, at, children }: { label: string; at: { props: { id: string }; message: ReactNode }; children: ReactNode }) {
  return (
    <div className="rd-prop">
      <label htmlFor={at.props.id}>{label}</label>
      {children}
      {at.message}
    </div>
  )
}

export default function ReportDesigner() {
  const { name: routeName = 'new' } = useParams()
  const { t } = useTranslation()
  const navigate = useNavigate()
  const queries = useQueryClient()
  const nav = useNavigation()
  const isNew = routeName === 'new'
  const [newName, setNewName] = useState('')
  const name = isNew ? newName : routeName

  const head = useQuery({
    queryKey: ['reportDesigner', 'head', routeName], enabled: !isNew, retry: false,
    queryFn: () => get<Head>(`/definitions/report/${encodeURIComponent(routeName)}`),
  })
  const missing = head.error instanceof ApiError && head.error.status === 404
  const stored = useQuery({
    queryKey: ['reportDesigner', 'version', routeName, head.data?.latest], enabled: !!head.data,
    queryFn: () => get<{ definition: Record<string, Json> }>(`/definitions/report/${encodeURIComponent(routeName)}/versions/${head.data!.latest}`),
  })
  const [draft, setDraft] = useState<ReportDraft | null>(isNew ? emptyDraft() : null)
  useEffect(() => {
    if (stored.data && !draft) setDraft(toDraft(stored.data.definition))
    if ((missing || isNew) && !draft) setDraft(emptyDraft())
  }, [stored.data, missing, isNew, draft])
  // another report opened in the same designer (not the new one just saved under its name): its own draft
  const [loadedFor, setLoadedFor] = useState(routeName)
  if (loadedFor !== routeName) {
    if (loadedFor !== 'new') setDraft(null)
    setLoadedFor(routeName)
  }

  const [chart, setChart] = useState<{ type: ChartType; x: string; y: string; color: string }>({ type: 'bar', x: '', y: '', color: '' })
  const fields = useFormFields(draft?.form ?? '')
  const definition = useMemo(() => (draft ? toDefinition(draft, name || 'draft') : null), [draft, name])
  // the chart's x/y fall back to the first dimension / measure
  const dimNames = draft?.dimensions.map((d) => d.name) ?? []
  const measureNames = draft?.measures.map((m) => m.name) ?? []
  const binding = {
    type: chart.type,
    ...(chart.type === 'number' || chart.type === 'table' ? {} : { x: dimNames.includes(chart.x) ? chart.x : dimNames[0] }),
    ...(chart.type === 'table' ? {} : { y: measureNames.includes(chart.y) ? chart.y : measureNames[0] }),
    ...(chart.color && dimNames.includes(chart.color) && ['bar', 'line'].includes(chart.type) ? { color: chart.color } : {}),
  }
  const asked = useDebounced(definition && draft?.form ? JSON.stringify({ draft, body: { definition, chart: binding } }) : null, 400)
  const previewName = NAME.test(name) ? name : 'draft'
  const preview = useQuery({
    queryKey: ['reportDesigner', 'preview', previewName, asked],
    enabled: !!asked,
    retry: false,
    placeholderData: keepPreviousData,
    queryFn: async () => {
      const { draft: sent, body } = JSON.parse(asked!) as { draft: ReportDraft; body: unknown }
      try {
        return { sent, result: await post<Preview>(`/reports/${encodeURIComponent(previewName)}/preview`, body), problems: [] as Problem[] }
      } catch (error) {
        if (error instanceof ApiError && (error.status === 422 || error.status === 400) && error.details.length) {
          return { sent, result: null, problems: error.details }
        }
        throw error
      }
    },
  })

  const save = useMutation({
    mutationFn: () => post<{ version: number }>(`/definitions/report/${encodeURIComponent(name)}/versions?publish=true`, definition),
    onSuccess: (saved) => {
      void queries.invalidateQueries({ queryKey: ['definitions'] })
      void queries.invalidateQueries({ queryKey: ['reportDesigner', 'head', name] })
      if (isNew) navigate(`/admin/reports/${encodeURIComponent(name)}`, { replace: true, state: { saved: saved.version } })
    },
  })
  const [savedDraft, setSavedDraft] = useState<ReportDraft | null>(null)
  const saveProblems = save.error instanceof ApiError ? save.error.details : []
  const problems = useMemo(() => {
    if (!draft) return {}
    const fromSave = save.isError && savedDraft ? problemsByControl(saveProblems, savedDraft) : {}
    const fromPreview = preview.data ? problemsByControl(preview.data.problems, preview.data.sent) : {}
    const merged: Record<string, string[]> = { ...fromPreview }
    for (const [k, v] of Object.entries(fromSave)) merged[k] = [...new Set([...(merged[k] ?? []), ...v])]
    return merged
  }, [draft, preview.data, save.isError, saveProblems, savedDraft])
  const at = useProblemAt(problems)
  // while the draft has problems, the last preview computed stays in view (said to be out of date)
  const [lastGood, setLastGood] = useState<Preview | null>(null)
  useEffect(() => { if (preview.data?.result) setLastGood(preview.data.result) }, [preview.data])

  if (!isNew && head.isLoading) return <p role="status">{t('loading')}</p>
  if (!isNew && head.error && !missing) return <p role="alert">{t('error', { message: (head.error as Error).message })}</p>
  if (!draft) return <p role="status">{t('loading')}</p>

  const set = (patch: Partial<ReportDraft>) => { setDraft({ ...draft, ...patch }); save.reset() }
  const setDim = (key: string, patch: Partial<DraftDimension>) => set({ dimensions: draft.dimensions.map((d) => (d.key === key ? { ...d, ...patch } : d)) })
  const setMeasure = (key: string, patch: Partial<DraftMeasure>) => set({ measures: draft.measures.map((m) => (m.key === key ? { ...m, ...patch } : m)) })
  const fieldList = fields.data ?? []
  const fieldType = (source: string) => fieldList.find((f) => f.name === source.trim())?.type
  const canBucket = (source: string) => {
    const type = fieldType(source)
    return type ? DATE_TYPES.has(type) : source.trim() === '$created_at' || source.trim() === '$updated_at'
  }
  const current = preview.data?.result ?? null
  const result = current ?? lastGood
  const stale = !current && !!lastGood
  const known = controlIds(draft)
  const unplaced = Object.entries(problems).filter(([id]) => !known.has(id)).flatMap(([, m]) => m)
  const nameOk = NAME.test(name)
  const reportTitle = draft.title || name || t('reportDesigner.untitled')
  const saved = save.data?.version

  return (
    <section className="rd" aria-labelledby="rd-title">
      <div className="row rd-toolbar">
        <h2 id="rd-title">{t('reportDesigner.title', { name: name || t('reportDesigner.untitled') })}</h2>
        <span className="spacer" />
        <Link to="/admin/definitions">{t('reportDesigner.back')}</Link>
        <button type="button" className="primary" disabled={!nameOk || !draft.form || save.isPending}
          onClick={() => { setSavedDraft(draft); save.mutate() }}>{save.isPending ? t('reportDesigner.saving') : t('reportDesigner.save')}</button>
      </div>
      <div aria-live="polite" className="rd-status">
        {saved && !save.isError && <p role="status">{t('reportDesigner.saved', { version: saved })}</p>}
      </div>
      {save.isError && (
        <div role="alert" className="alert">{t('reportDesigner.saveRefused', { message: (save.error as Error).message })}</div>
      )}
      {unplaced.length > 0 && <div role="alert" className="alert rd-problem">{unplaced.map((m, i) => <div key={i}>{m}</div>)}</div>}

      <div className="rd-grid">
        <div className="rd-controls">
          <fieldset>
            <legend>{t('reportDesigner.report')}</legend>
            {isNew && (
              <div className="rd-prop">
                <label htmlFor="rd-name">{t('reportDesigner.name')}</label>
                <input id="rd-name" value={newName} onChange={(e) => setNewName(e.target.value)} aria-invalid={newName && !nameOk ? true : undefined}
                  aria-describedby="rd-name-hint" />
                <p id="rd-name-hint" className="muted rd-hint">{t('reportDesigner.nameHint')}</p>
              </div>
            )}
            <Prop label={t('reportDesigner.form')} at={at('rd-form')}>
              <select {...at('rd-form').props} value={draft.form} onChange={(e) => set({ form: e.target.value })}>
                <option value="">—</option>
                {nav.data?.forms.map((f) => <option key={f.name} value={f.name}>{f.title || f.name}</option>)}
              </select>
            </Prop>
            <div className="rd-pair">
              <Prop label={t('reportDesigner.titleEn')} at={at('rd-titleEn')}>
                <input {...at('rd-titleEn').props} value={draft.title} onChange={(e) => set({ title: e.target.value })} />
              </Prop>
              <Prop label={t('reportDesigner.titleZh')} at={at('rd-titleZh')}>
                <input {...at('rd-titleZh').props} lang="zh-CN" value={draft.titleZh} onChange={(e) => set({ titleZh: e.target.value })} />
              </Prop>
            </div>
            <Prop label={t('reportDesigner.filter')} at={at('rd-filter')}>
              <input {...at('rd-filter').props} className="rd-expression" value={draft.filter} placeholder="priority != 'low'"
                onChange={(e) => set({ filter: e.target.value })} />
            </Prop>
            <div className="rd-pair">
              <Prop label={t('reportDesigner.scope')} at={at('rd-scope')}>
                <input {...at('rd-scope').props} value={draft.scope} placeholder="region" onChange={(e) => set({ scope: e.target.value })} />
              </Prop>
              <Prop label={t('reportDesigner.timeZone')} at={at('rd-timeZone')}>
                <input {...at('rd-timeZone').props} value={draft.timeZone} onChange={(e) => set({ timeZone: e.target.value })} />
              </Prop>
            </div>
          </fieldset>

          <datalist id="rd-fields">
            {[...fieldList.map((f) => f.name), ...RECORD_FIELDS].map((f) => <option key={f} value={f} />)}
          </datalist>

          <fieldset>
            <legend>{t('reportDesigner.dimensions')}</legend>
            {at('rd-dimensions').message}
            {draft.dimensions.length === 0 && <p className="muted rd-hint">{t('reportDesigner.noDimensions')}</p>}
            <ol className="rd-list">
              {draft.dimensions.map((d, i) => {
                const base = `rd-dimensions-${d.key}`
                const n = i + 1
                return (
                  <li key={d.key} className="rd-item" aria-label={t('reportDesigner.dimensionN', { n })}>
                    {at(`${base}-item`).message}
                    <div className="rd-pair">
                      <Prop label={t('reportDesigner.dimField', { n })} at={at(`${base}-field`)}>
                        <input {...at(`${base}-field`).props} list="rd-fields" className="rd-expression" value={d.field}
                          onChange={(e) => setDim(d.key, { field: e.target.value, ...(canBucket(e.target.value) ? {} : { bucket: '' }) })} />
                      </Prop>
                      <Prop label={t('reportDesigner.bucket', { n })} at={at(`${base}-bucket`)}>
                        <select {...at(`${base}-bucket`).props} value={d.bucket} disabled={!canBucket(d.field) && !d.bucket}
                          onChange={(e) => setDim(d.key, { bucket: e.target.value })}>
                          <option value="">{t('reportDesigner.noBucket')}</option>
                          {BUCKETS.map((b) => <option key={b} value={b}>{t(`reportDesigner.buckets.${b}`)}</option>)}
                        </select>
                      </Prop>
                    </div>
                    <div className="rd-triple">
                      <Prop label={t('reportDesigner.dimName', { n })} at={at(`${base}-name`)}>
                        <input {...at(`${base}-name`).props} value={d.name} onChange={(e) => setDim(d.key, { name: e.target.value })} />
                      </Prop>
                      <Prop label={t('reportDesigner.labelEn', { n })} at={at(`${base}-label`)}>
                        <input {...at(`${base}-label`).props} value={d.label} onChange={(e) => setDim(d.key, { label: e.target.value })} />
                      </Prop>
                      <Prop label={t('reportDesigner.labelZh', { n })} at={at(`${base}-labelZh`)}>
                        <input {...at(`${base}-labelZh`).props} lang="zh-CN" value={d.labelZh} onChange={(e) => setDim(d.key, { labelZh: e.target.value })} />
                      </Prop>
                    </div>
                    <button type="button" onClick={() => set({ dimensions: draft.dimensions.filter((x) => x.key !== d.key) })}>
                      {t('reportDesigner.removeDimension', { n })}
                    </button>
                  </li>
                )
              })}
            </ol>
            <AddDimension fields={fieldList} disabled={draft.dimensions.length >= 4}
              onAdd={(field, bucket) => set({ dimensions: [...draft.dimensions, newDimension(field, usedNames(draft), bucket)] })}
              canBucket={canBucket} />
          </fieldset>

          <fieldset>
            <legend>{t('reportDesigner.measures')}</legend>
            {at('rd-measures').message}
            <ol className="rd-list">
              {draft.measures.map((m, i) => {
                const base = `rd-measures-${m.key}`
                const n = i + 1
                const others = draft.measures.filter((o) => o.key !== m.key && o.op !== 'ratio')
                return (
                  <li key={m.key} className="rd-item" aria-label={t('reportDesigner.measureN', { n })}>
                    {at(`${base}-item`).message}
                    <div className="rd-pair">
                      <Prop label={t('reportDesigner.op', { n })} at={at(`${base}-op`)}>
                        <select {...at(`${base}-op`).props} value={m.op} onChange={(e) => setMeasure(m.key, { op: e.target.value as DraftMeasure['op'] })}>
                          {OPS.map((op) => <option key={op} value={op}>{t(`reportDesigner.ops.${op}`)}</option>)}
                        </select>
                      </Prop>
                      {m.op === 'ratio' ? (
                        <>
                          <Prop label={t('reportDesigner.numerator', { n })} at={at(`${base}-numerator`)}>
                            <select {...at(`${base}-numerator`).props} value={m.numerator} onChange={(e) => setMeasure(m.key, { numerator: e.target.value })}>
                              <option value="">—</option>
                              {others.map((o) => <option key={o.key} value={o.name}>{o.name}</option>)}
                            </select>
                          </Prop>
                          <Prop label={t('reportDesigner.denominator', { n })} at={at(`${base}-denominator`)}>
                            <select {...at(`${base}-denominator`).props} value={m.denominator} onChange={(e) => setMeasure(m.key, { denominator: e.target.value })}>
                              <option value="">—</option>
                              {others.map((o) => <option key={o.key} value={o.name}>{o.name}</option>)}
                            </select>
                          </Prop>
                        </>
                      ) : m.op === 'duration' ? (
                        <>
                          <Prop label={t('reportDesigner.start', { n })} at={at(`${base}-start`)}>
                            <input {...at(`${base}-start`).props} list="rd-fields" className="rd-expression" value={m.start} onChange={(e) => setMeasure(m.key, { start: e.target.value })} />
                          </Prop>
                          <Prop label={t('reportDesigner.end', { n })} at={at(`${base}-end`)}>
                            <input {...at(`${base}-end`).props} list="rd-fields" className="rd-expression" value={m.end} onChange={(e) => setMeasure(m.key, { end: e.target.value })} />
                          </Prop>
                          <Prop label={t('reportDesigner.unit', { n })} at={at(`${base}-unit`)}>
                            <select {...at(`${base}-unit`).props} value={m.unit} onChange={(e) => setMeasure(m.key, { unit: e.target.value })}>
                              {UNITS.map((u) => <option key={u} value={u}>{t(`reportDesigner.units.${u}`)}</option>)}
                            </select>
                          </Prop>
                        </>
                      ) : (
                        <Prop label={t(m.op === 'count' ? 'reportDesigner.countField' : 'reportDesigner.measureField', { n })} at={at(`${base}-field`)}>
                          <input {...at(`${base}-field`).props} list="rd-fields" className="rd-expression" value={m.field} onChange={(e) => setMeasure(m.key, { field: e.target.value })} />
                        </Prop>
                      )}
                    </div>
                    {m.op !== 'ratio' && (
                      <Prop label={t('reportDesigner.where', { n })} at={at(`${base}-where`)}>
                        <input {...at(`${base}-where`).props} className="rd-expression" value={m.where} onChange={(e) => setMeasure(m.key, { where: e.target.value })} />
                      </Prop>
                    )}
                    <div className="rd-triple">
                      <Prop label={t('reportDesigner.measureName', { n })} at={at(`${base}-name`)}>
                        <input {...at(`${base}-name`).props} value={m.name} onChange={(e) => setMeasure(m.key, { name: e.target.value })} />
                      </Prop>
                      <Prop label={t('reportDesigner.measureLabelEn', { n })} at={at(`${base}-label`)}>
                        <input {...at(`${base}-label`).props} value={m.label} onChange={(e) => setMeasure(m.key, { label: e.target.value })} />
                      </Prop>
                      <Prop label={t('reportDesigner.measureLabelZh', { n })} at={at(`${base}-labelZh`)}>
                        <input {...at(`${base}-labelZh`).props} lang="zh-CN" value={m.labelZh} onChange={(e) => setMeasure(m.key, { labelZh: e.target.value })} />
                      </Prop>
                    </div>
                    <button type="button" disabled={draft.measures.length <= 1} onClick={() => set({ measures: draft.measures.filter((x) => x.key !== m.key) })}>
                      {t('reportDesigner.removeMeasure', { n })}
                    </button>
                  </li>
                )
              })}
            </ol>
            <button type="button" disabled={draft.measures.length >= 20} onClick={() => set({ measures: [...draft.measures, newMeasure(usedNames(draft))] })}>
              {t('reportDesigner.addMeasure')}
            </button>
          </fieldset>

          <fieldset>
            <legend>{t('reportDesigner.sortAndLimit')}</legend>
            {at('rd-sort').message}
            <ol className="rd-list">
              {draft.sort.map((s, i) => {
                const base = `rd-sort-${s.key}`
                const n = i + 1
                return (
                  <li key={s.key} className="row rd-sort">
                    <Prop label={t('reportDesigner.sortBy', { n })} at={at(`${base}-by`)}>
                      <select {...at(`${base}-by`).props} value={s.by} onChange={(e) => set({ sort: draft.sort.map((x) => (x.key === s.key ? { ...x, by: e.target.value } : x)) })}>
                        <option value="">—</option>
                        {usedNames(draft).map((u) => <option key={u} value={u}>{u}</option>)}
                      </select>
                    </Prop>
                    <label className="rd-check">
                      <input type="checkbox" checked={s.desc} onChange={(e) => set({ sort: draft.sort.map((x) => (x.key === s.key ? { ...x, desc: e.target.checked } : x)) })} />
                      {t('reportDesigner.descending', { n })}
                    </label>
                    <button type="button" onClick={() => set({ sort: draft.sort.filter((x) => x.key !== s.key) })}>{t('reportDesigner.removeSort', { n })}</button>
                  </li>
                )
              })}
            </ol>
            <button type="button" disabled={draft.sort.length >= 4}
              onClick={() => set({ sort: [...draft.sort, { key: newKey('s'), by: draft.measures[0]?.name ?? '', desc: true }] })}>{t('reportDesigner.addSort')}</button>
            <div className="rd-pair">
              <Prop label={t('reportDesigner.limit')} at={at('rd-limit')}>
                <input {...at('rd-limit').props} inputMode="numeric" value={draft.limit} onChange={(e) => set({ limit: e.target.value })} />
              </Prop>
              <Prop label={t('reportDesigner.compare')} at={at('rd-compare')}>
                <select {...at('rd-compare').props} value={draft.compare} onChange={(e) => set({ compare: e.target.value })}>
                  <option value="">{t('reportDesigner.noCompare')}</option>
                  {draft.dimensions.filter((d) => d.bucket || d.name === draft.compare).map((d) => <option key={d.key} value={d.name}>{d.name}</option>)}
                </select>
              </Prop>
            </div>
          </fieldset>
        </div>

        <section className="rd-preview" aria-labelledby="rd-preview-title">
          <h3 id="rd-preview-title">{t('reportDesigner.preview')}</h3>
          <fieldset className="rd-chart-controls">
            <legend>{t('reportDesigner.chart')}</legend>
            <Prop label={t('reportDesigner.chartType')} at={at('rd-chart-type')}>
              <select {...at('rd-chart-type').props} value={chart.type} onChange={(e) => setChart({ ...chart, type: e.target.value as ChartType })}>
                {CHART_TYPES.map((c) => <option key={c} value={c}>{t(`reportDesigner.chartTypes.${c}`)}</option>)}
              </select>
            </Prop>
            <Prop label={t('reportDesigner.chartX')} at={at('rd-chart-x')}>
              <select {...at('rd-chart-x').props} value={binding.x ?? ''} disabled={!('x' in binding)} onChange={(e) => setChart({ ...chart, x: e.target.value })}>
                {dimNames.length === 0 && <option value="">—</option>}
                {dimNames.map((d) => <option key={d} value={d}>{d}</option>)}
              </select>
            </Prop>
            <Prop label={t('reportDesigner.chartY')} at={at('rd-chart-y')}>
              <select {...at('rd-chart-y').props} value={binding.y ?? ''} disabled={!('y' in binding)} onChange={(e) => setChart({ ...chart, y: e.target.value })}>
                {measureNames.map((m) => <option key={m} value={m}>{m}</option>)}
              </select>
            </Prop>
            <Prop label={t('reportDesigner.chartColor')} at={at('rd-chart-color')}>
              <select {...at('rd-chart-color').props} value={binding.color ?? ''} disabled={!['bar', 'line'].includes(chart.type)} onChange={(e) => setChart({ ...chart, color: e.target.value })}>
                <option value="">{t('reportDesigner.noColor')}</option>
                {dimNames.filter((d) => d !== binding.x).map((d) => <option key={d} value={d}>{d}</option>)}
              </select>
            </Prop>
          </fieldset>
          <div aria-live="polite" className="rd-bound">
            {!draft.form ? <p className="muted">{t('reportDesigner.pickForm')}</p>
              : preview.isFetching && !result ? <p role="status">{t('reportDesigner.computing')}</p>
              : result ? (
                <p role="status" data-testid="bound">
                  {result.complete ? t('reportDesigner.boundComplete', { n: result.records_read })
                    : t('reportDesigner.boundPartial', { n: result.records_read, bound: result.bound })}
                  {preview.isFetching ? ` ${t('reportDesigner.updating')}` : ''}
                </p>
              ) : null}
            {preview.data?.problems.length ? <p className="rd-stale">{t(stale ? 'reportDesigner.staleProblems' : 'reportDesigner.fixProblems')}</p> : null}
          </div>
          {preview.error && <p role="alert" className="alert">{t('error', { message: (preview.error as Error).message })}</p>}
          {result && (
            <div className={`rd-result${stale ? ' stale' : ''}`}>
              <figure className="rd-figure" aria-label={t('reportDesigner.chartOf', { title: reportTitle })}>
                {chart.type === 'table' || !result.rows.length ? null
                  : <ChartView spec={result.vega_lite} type={chart.type} label={t('reportDesigner.chartOf', { title: reportTitle })} />}
              </figure>
              <RowsTable preview={result} caption={t('reportDesigner.rowsOf', { title: reportTitle })} />
            </div>
          )}
        </section>
      </div>
    </section>
  )
}

function AddDimension({ fields, onAdd, disabled, canBucket }: {
  fields: FormField[]; onAdd: (field: string, bucket: string) => void; disabled: boolean; canBucket: (f: string) => boolean
}) {
  const { t } = useTranslation()
  const [field, setField] = useState('')
  const [bucket, setBucket] = useState('')
  return (
    <div className="row rd-add">
      <label htmlFor="rd-new-field">{t('reportDesigner.newDimensionField')}</label>
        <select id="rd-new-field" value={field} onChange={(e) => { setField(e.target.value); if (!canBucket(e.target.value)) setBucket('') }}>
          <option value="">—</option>
          {fields.map((f) => <option key={f.name} value={f.name}>{f.label ? `${f.label} (${f.name})` : f.name}</option>)}
          {RECORD_FIELDS.map((f) => <option key={f} value={f}>{f}</option>)}
        </select>
      {canBucket(field) && (
        <>
          <label htmlFor="rd-new-bucket">{t('reportDesigner.newDimensionBucket')}</label>
          <select id="rd-new-bucket" value={bucket} onChange={(e) => setBucket(e.target.value)}>
            <option value="">{t('reportDesigner.noBucket')}</option>
            {BUCKETS.map((b) => <option key={b} value={b}>{t(`reportDesigner.buckets.${b}`)}</option>)}
          </select>
        </>
      )}
      <button type="button" disabled={disabled || !field} onClick={() => { onAdd(field, bucket); setField(''); setBucket('') }}>
        {t('reportDesigner.addDimension')}
      </button>
    </div>
  )
}
