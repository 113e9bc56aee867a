import Form from '@rjsf/core'
import type { RegistryFieldsType, RegistryWidgetsType, WidgetProps } from '@rjsf/utils'
import validator from '@rjsf/validator-ajv8'
import { useQuery } from '@tanstack/react-query'
import { useMemo, useState } from 'react'
import { useTranslation } from 'react-i18next'
import { get } from '../lib/api'
import { useNavigation } from '../lib/queries'
import type { RecordBody } from '../lib/types'
import GeoField from './GeoField'
import { adaptSchema, extraErrors, type JsonSchema } from './rjsf'

/** A record of another form, picked by its title (type to narrow the loaded page). */
function LookupWidget(props: WidgetProps) {
  const { t } = useTranslation()
  const form = String(props.options.form ?? '')
  const nav = useNavigation()
  const titleField = nav.data?.forms.find((f) => f.name === form)?.title_field
  const [search, setSearch] = useState('')
  const records = useQuery({
    queryKey: ['lookup', form],
    queryFn: () => get<{ items: RecordBody[] }>(`/forms/${encodeURIComponent(form)}/records?limit=100`),
    enabled: !!form,
  })
  const label = (r: RecordBody) => String((titleField && r.data[titleField]) || r.number || r.id) + (r.data.name && titleField !== 'name' ? ` · ${r.data.name}` : '')
  const shown = (records.data?.items ?? []).filter((r) => !search || label(r).toLowerCase().includes(search.toLowerCase()))
  return (
    <span className="lookup">
      <input aria-label={`${props.label} ${t('filter')}`} placeholder={t('filter')} value={search} onChange={(e) => setSearch(e.target.value)} />
      <select id={props.id} aria-label={props.label} value={props.value ?? ''} required={props.required} disabled={props.disabled || props.readonly}
        onChange={(e) => props.onChange(e.target.value || undefined)}>
        <option value="">—</option>
        {shown.map((r) => <option key={r.id} value={r.id}>{label(r)}</option>)}
      </select>
    </span>
  )
}

const widgets: RegistryWidgetsType = { lookup: LookupWidget }
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
}

export default function RecordForm({ schema, only, formData, problems, submitLabel, busy, onSubmit, children }: Props) {
  const adapted = useMemo(() => adaptSchema(schema, only), [schema, only])
  const initial = useMemo(() => Object.fromEntries(Object.entries(formData ?? {}).filter(([k]) => adapted.fields.includes(k))), [formData, adapted])
  const [data, setData] = useState<Record<string, any>>(initial)
  return (
    <Form
      schema={adapted.schema}
      uiSchema={{ ...adapted.uiSchema, 'ui:submitButtonOptions': { submitText: submitLabel, props: { disabled: busy } } }}
      formData={data}
      validator={validator}
      widgets={widgets}
      fields={fields}
      extraErrors={problems ? extraErrors(problems) : undefined}
      showErrorList={false}
      noHtml5Validate
      onChange={(e) => setData(e.formData)}
      onSubmit={(e) => onSubmit(e.formData ?? {})}
    >
      {children}
    </Form>
  )
}
