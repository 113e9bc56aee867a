import Form from '@rjsf/core'
import type { RegistryFieldsType, RegistryWidgetsType, WidgetProps } from '@rjsf/utils'
import { useQuery } from '@tanstack/react-query'
import { useMemo, useState } from 'react'
import { useTranslation } from 'react-i18next'
import { get } from '../lib/api'
import { useFormMeta, useNavigation, useSchema } from '../lib/queries'
import type { RecordBody } from '../lib/types'
import GeoField from './GeoField'
import validator from './validator'
import RatingWidget from './RatingWidget'
import { conditions, toPlain } from '../expressions'
import { adaptSchema, display, extraErrors, unwrapNullable, type JsonSchema } from './rjsf'

const referenced = (prop: JsonSchema | undefined) => String(unwrapNullable(prop ?? {})['x-reference'] ?? '').replace(/^form:/, '')
const CARD_SKIP = new Set(['lookup', 'image', 'file', 'signature', 'geolocation', 'subtable', 'textarea', 'auto_number'])
const CARD_FIELDS = 6

/** The picked record at a glance: its first fields with values (computed ones too, e.g. a product's
 *  "in warranty today"), labelled from its form's schema — generic, whatever form the lookup names. */
function LookupCard({ form, id, label }: { form: string; id: string; label: string }) {
  const { t } = useTranslation()
  const schema = useSchema(form)
  const record = useQuery({ queryKey: ['record', form, id], queryFn: () => get<RecordBody>(`/forms/${encodeURIComponent(form)}/records/${encodeURIComponent(id)}`) })
  const props: Record<string, JsonSchema> = schema.data?.properties ?? {}
  const shown = Object.entries(props)
    .filter(([k, p]) => !CARD_SKIP.has(String(unwrapNullable(p)['x-type'])) && record.data?.data[k] != null && record.data?.data[k] !== '')
    .slice(0, CARD_FIELDS)
  if (!shown.length) return null
  return (
    <dl className="lookup-card" aria-label={t('lookupDetails', { field: label })}>
      {shown.map(([k, p]) => <div key={k}><dt>{p.title ?? k}</dt><dd data-field={k}>{display(record.data!.data[k], p)}</dd></div>)}
    </dl>
  )
}

/** A record of another form, picked by its title (type to narrow the loaded page). When the other form
 *  has an indexed lookup to a record this form already names (a product's owner = the order's
 *  customer), only the records of that one are offered: one Query on its index, not the whole form. */
function LookupWidget(props: WidgetProps) {
  const { t } = useTranslation()
  const form = String(props.options.form ?? '')
  const meta = useFormMeta(form)
  const titleField = meta?.title_field
  const target = useSchema(form)
  const context = (props.registry.formContext ?? {}) as { data?: Record<string, any>; schema?: JsonSchema }
  const narrowing = useMemo(() => {
    const ours: Record<string, JsonSchema> = context.schema?.properties ?? {}
    for (const filter of meta?.filters ?? []) {
      const targetForm = filter.form ?? referenced(target.data?.properties?.[filter.name])
      if (!targetForm || targetForm === form) continue
      const mine = Object.entries(ours).find(([k, p]) => k !== props.name && referenced(p) === targetForm && context.data?.[k])
      if (mine) return { field: filter.name, value: String(context.data![mine[0]]), by: String(mine[1].title ?? mine[0]) }
    }
    return null
  }, [meta, target.data, context.schema, context.data, form, props.name])
  const [search, setSearch] = useState('')
  const filter = narrowing ? `&filter.${encodeURIComponent(narrowing.field)}=${encodeURIComponent(narrowing.value)}` : ''
  const records = useQuery({
    queryKey: ['lookup', form, filter],
    queryFn: () => get<{ items: RecordBody[] }>(`/forms/${encodeURIComponent(form)}/records?limit=100${filter}`),
    enabled: !!form,
  })
  const label = (r: RecordBody) => String((titleField && r.data[titleField]) || r.number || r.id) + (r.data.name && titleField !== 'name' ? ` · ${r.data.name}` : '')
  const shown = (records.data?.items ?? []).filter((r) => !search || label(r).toLowerCase().includes(search.toLowerCase()) || r.id === props.value)
  return (
    <span className="lookup">
      <input aria-label={`${props.label} ${t('filter')}`} placeholder={t('filter')} value={search} onChange={(e) => setSearch(e.target.value)} />
      <select id={props.id} aria-label={props.label} value={props.value ?? ''} required={props.required} disabled={props.disabled || props.readonly}
        onChange={(e) => props.onChange(e.target.value || undefined)}>
        <option value="">—</option>
        {shown.map((r) => <option key={r.id} value={r.id}>{label(r)}</option>)}
      </select>
      {narrowing && <span className="muted hint" data-narrowed-by={narrowing.field}>{t('lookupNarrowed', { field: narrowing.by })}</span>}
      {props.value && <LookupCard form={form} id={String(props.value)} label={props.label} />}
    </span>
  )
}

const widgets: RegistryWidgetsType = { lookup: LookupWidget, rating: RatingWidget }
const fields: RegistryFieldsType = { geolocation: GeoField }

interface Props {
  schema: JsonSchema
  only?: string[]
  formData?: Record<string, any>
  problems?: { path: string; message: string }[]
  submitLabel: string
  busy?: boolean
  onSubmit: (data: Record<string, any>) => void
  children?: React.ReactNode
  /** The stored record being edited: its id and number are `$id` / `$number` (null on a new record). */
  record?: { id: string; number?: string | null }
}

/** The rules of the form applied live, in the browser, with the same expression language as the
 *  server (console/src/expressions): hidden fields leave the form, conditionally required ones are
 *  marked, read-only ones locked, computed values previewed. The server still decides on save. */
function useLive(schema: JsonSchema, data: Record<string, any>, previous: Record<string, any> | undefined, record?: Props['record']) {
  const nav = useNavigation()
  return useMemo(() => {
    const now = new Date().toISOString()
    const user = nav.data?.user
    const variables = { $user: { id: user?.id ?? '', roles: user?.roles ?? [], name: user?.name ?? '', attributes: user?.attributes ?? {} }, $now: now, $today: now.slice(0, 10),
      $id: record?.id ?? null, $number: record?.number ?? null }
    try {
      return conditions(schema, { ...(previous ?? {}), ...data }, variables, { previous: previous ?? null })
    } catch {
      return null // the server decides
    }
  }, [schema, data, previous, nav.data, record?.id, record?.number])
}

export default function RecordForm({ schema, only, formData, problems, submitLabel, busy, onSubmit, children, record }: Props) {
  const { t } = useTranslation()
  const base = useMemo(() => adaptSchema(schema, only), [schema, only])
  const initial = useMemo(() => Object.fromEntries(Object.entries(formData ?? {}).filter(([k]) => base.fields.includes(k))), [formData, base])
  const [data, setData] = useState<Record<string, any>>(initial)
  const live = useLive(schema, data, only ? formData : undefined, record)
  const adapted = useMemo(() => {
    if (!live) return base
    const properties = Object.fromEntries(Object.entries(base.schema.properties).filter(([k]) => !live.hidden.has(k)))
    const required = [...new Set([...(base.schema.required ?? []), ...[...live.required].filter((k) => k in properties)])].filter((k) => k in properties)
    const uiSchema = { ...base.uiSchema }
    for (const k of live.readonly) if (k in properties) uiSchema[k] = { ...(uiSchema[k] ?? {}), 'ui:readonly': true }
    return { ...base, schema: { ...base.schema, properties, ...(required.length ? { required } : { required: undefined }) }, uiSchema }
  }, [base, live])
  const computed = Object.entries(live?.computed ?? {}).filter(([k]) => !k.includes('[') && !live?.hidden.has(k) && schema.properties?.[k])
  return (
    <Form
      schema={adapted.schema}
      uiSchema={adapted.uiSchema}
      formData={data}
      validator={validator}
      widgets={widgets}
      fields={fields}
      formContext={{ data, schema }}
      extraErrors={problems ? extraErrors(problems) : undefined}
      showErrorList={false}
      noHtml5Validate
      onChange={(e) => setData(e.formData)}
      onSubmit={(e) => onSubmit(Object.fromEntries(Object.entries(e.formData ?? {}).filter(([k]) => !live?.hidden.has(k))))}
    >
      {computed.length > 0 && (
        <dl className="fields computed" aria-label={t('computedPreview')}>
          {computed.map(([k, v]) => (
            <div key={k}><dt>{schema.properties[k].title ?? k}</dt><dd data-computed={k}>{v === null ? '—' : display(toPlain(v), schema.properties[k])}</dd></div>
          ))}
        </dl>
      )}
      {children ?? <button type="submit" disabled={busy}>{submitLabel}</button>}
    </Form>
  )
}
