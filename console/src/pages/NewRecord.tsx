import { useMutation, useQueryClient } from '@tanstack/react-query'
import { useState } from 'react'
import { useTranslation } from 'react-i18next'
import { useNavigate, useParams } from 'react-router'
import RecordForm from '../forms/RecordForm'
import { ApiError, post } from '../lib/api'
import { useFormMeta, useSchema } from '../lib/queries'
import type { RecordBody } from '../lib/types'

export default function NewRecord() {
  const { form = '' } = useParams()
  const { t } = useTranslation()
  const navigate = useNavigate()
  const queries = useQueryClient()
  const schema = useSchema(form)
  // one key per attempt: a retried submit (double click, lost answer) creates the record once
  const [key] = useState(() => `console-${crypto.randomUUID()}`)
  const create = useMutation({
    mutationFn: (data: Record<string, any>) => post<RecordBody>(`/forms/${encodeURIComponent(form)}/records`, { data }, { 'Idempotency-Key': key }),
    onSuccess: (rec) => {
      void queries.invalidateQueries({ queryKey: ['records', form] })
      navigate(`/forms/${form}/records/${rec.id}`)
    },
  })
  const meta = useFormMeta(form)
  const problem = create.error as ApiError | null
  return (
    <section aria-labelledby="new-title">
      <h1 id="new-title">{t('newRecord')}: {meta?.title ?? form}</h1>
      {problem && <p role="alert">{problem.message}</p>}
      {schema.data && (
        <RecordForm schema={schema.data} submitLabel={t('create')} busy={create.isPending}
          problems={problem?.details} onSubmit={(data) => create.mutate(data)} />
      )}
    </section>
  )
}
