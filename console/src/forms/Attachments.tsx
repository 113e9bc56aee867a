import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { useState } from 'react'
import { useTranslation } from 'react-i18next'
import { ApiError, get, post } from '../lib/api'
import { unwrapNullable, type JsonSchema } from './rjsf'
import SignaturePad from './SignaturePad'

interface Attachment {
  key: string
  content_type: string
  size: number
  name?: string
  signed_sha256?: string
}

const RASTER = /^image\/(png|jpeg|webp|gif|avif|heic)$/

function accepted(prop: JsonSchema): string[] {
  const p = unwrapNullable(prop)
  const object = p.type === 'array' ? p.items : p
  return object?.properties?.content_type?.enum ?? []
}

/** One attachment: a thumbnail for raster images (a short-lived presigned GET), else a download link. */
export function Preview({ base, item }: { base: string; item: Attachment }) {
  const url = useQuery({
    queryKey: ['file', item.key],
    queryFn: () => get<{ url: string }>(`${base}/files?key=${encodeURIComponent(item.key)}`),
    staleTime: 240_000, // the URL lives 300 s
  })
  const name = item.name || item.key.split('/').pop() || item.key
  if (!url.data) return <span>{name}</span>
  return RASTER.test(item.content_type) ? (
    <a href={url.data.url} target="_blank" rel="noreferrer noopener"><img className="thumb" src={url.data.url} alt={name} /></a>
  ) : (
    <a href={url.data.url} rel="noreferrer noopener">{name}</a>
  )
}

interface Props {
  base: string
  field: string
  prop: JsonSchema
  value: Attachment | Attachment[] | undefined
  version: number
  canUpload: boolean
  onDone: () => void
}

/** Upload through the presigned flow: declare (POST …/uploads) → the browser POSTs the bytes straight
 *  to the file store → confirm (the server checks the object, then writes the attachment). */
export default function Attachments({ base, field, prop, value, version, canUpload, onDone }: Props) {
  const { t } = useTranslation()
  const queries = useQueryClient()
  const items = (Array.isArray(value) ? value : value ? [value] : []) as Attachment[]
  const types = accepted(prop)
  const label = unwrapNullable(prop).title ?? prop.title ?? field
  const [problem, setProblem] = useState('')
  const upload = useMutation({
    mutationFn: async (file: File) => {
      setProblem('')
      const declared = await post<{ upload_id: string; url: string; fields: Record<string, string> }>(`${base}/uploads`, {
        field, content_type: file.type, size: file.size, name: file.name.slice(0, 255),
      })
      const form = new FormData()
      for (const [k, v] of Object.entries(declared.fields)) form.append(k, v)
      form.append('file', file)
      // A form POST is a simple request: the store needs no CORS rule; the confirm below checks the object.
      await fetch(declared.url, { method: 'POST', body: form, mode: 'no-cors' })
      return post(`${base}/uploads/${encodeURIComponent(declared.upload_id)}/confirm`, { version })
    },
    onSuccess: () => {
      void queries.invalidateQueries({ queryKey: ['file'] })
      onDone()
    },
    onError: (e) => setProblem(e instanceof ApiError ? [e.message, ...e.details.map((d) => d.message)].join(' — ') : String(e)),
  })
  const inputId = `upload-${field}`
  return (
    <div className="attachments">
      <h3>{label}</h3>
      <div className="row">
        {items.map((a) => <Preview key={a.key} base={base} item={a} />)}
        {items.length === 0 && <span className="muted">—</span>}
      </div>
      {canUpload && unwrapNullable(prop)['x-type'] === 'signature' && (
        <SignaturePad label={label} disabled={upload.isPending} onSave={(file) => upload.mutate(file)} />
      )}
      {canUpload && unwrapNullable(prop)['x-type'] !== 'signature' && (
        <p>
          <label htmlFor={inputId}>{t('uploadTo', { field: label })}</label>{' '}
          <input id={inputId} type="file" accept={types.join(',') || undefined} capture={types.some((x) => x.startsWith('image/')) ? 'environment' : undefined}
            disabled={upload.isPending} onChange={(e) => { const f = e.target.files?.[0]; if (f) upload.mutate(f); e.target.value = '' }} />
          {upload.isPending && <span role="status"> {t('uploading')}</span>}
        </p>
      )}
      {problem && <p role="alert" className="alert">{problem}</p>}
    </div>
  )
}
