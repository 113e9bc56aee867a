import {
  closestCenter, DndContext, DragOverlay, KeyboardSensor, PointerSensor, pointerWithin, useDroppable, useDraggable, useSensor, useSensors,
  type Announcements, type CollisionDetection, type DragEndEvent, type DragStartEvent,
} from '@dnd-kit/core'
import { SortableContext, sortableKeyboardCoordinates, useSortable, verticalListSortingStrategy } from '@dnd-kit/sortable'
import { CSS } from '@dnd-kit/utilities'
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { Component, memo, useEffect, useMemo, useRef, useState, type ReactNode } from 'react'
import { useTranslation } from 'react-i18next'
import { Link, useNavigate, useParams } from 'react-router'
import RecordForm from '../../forms/RecordForm'
import type { JsonSchema } from '../../forms/rjsf'
import { ApiError, get, post, type Problem } from '../../lib/api'
import { useNavigation } from '../../lib/queries'
import FieldProperties, { Problems, useDebounced } from './FieldProperties'
import {
  describePath, fieldTypes, findField, indexCandidates, indexableTypes, indexesOf, moveItem, newField, newKey, pathParts, placeProblems,
  removeField, textOf, toDefinition, toDraft, updateField, withIndex, withKey, withoutIndex, withText, type Draft, type DraftField, type Json,
  type Language, type Placed,
} from './formDraft'
import FormImpact from './FormImpact'
import './FormDesigner.css'

// The form designer (issue 15): a service director builds or changes a form without writing JSON.
// Palette → fields (click or drag), reorder by drag and drop (pointer or keyboard, @dnd-kit), the
// selected field's properties, the draft checked as it is drawn (POST /definitions/form/{name}/check)
// with every problem at the field it concerns, a live preview that is the console's own record form,
// save as a new version, the changes against the published one, publish.

const NAME = /^[a-z][a-z0-9_]{0,62}$/
const CANVAS = 'fd-canvas'
const NEW_FORM = (name: string) => ({ name, title: '', fields: [], permissions: { create: ['*'], read: ['*'], update: ['*'] } })

interface Head { kind: string; name: string; latest: number; published: number | null }
interface Checked { valid: boolean; problems: Problem[]; warnings: Json[]; preview: { json_schema: JsonSchema } | null }
interface Change { op: 'add' | 'remove' | 'replace'; path: string; value?: Json; old_value?: Json }

class PreviewBoundary extends Component<{ fallback: ReactNode; children: ReactNode; reset: unknown }, { failed: boolean; reset: unknown }> {
  state = { failed: false, reset: undefined as unknown }
  static getDerivedStateFromError() { return { failed: true } }
  static getDerivedStateFromProps(props: { reset: unknown }, state: { failed: boolean; reset: unknown }) {
    return props.reset !== state.reset ? { failed: false, reset: props.reset } : null
  }
  render() { return this.state.failed ? this.props.fallback : this.props.children }
}

const label = (f: DraftField, language: Language) => textOf(f.field, 'label', language) || textOf(f.field, 'label', 'en') || f.field.name || '—'

function PaletteItem({ type, text, onAdd }: { type: string; text: string; onAdd: () => void }) {
  const { t } = useTranslation()
  const { setNodeRef, listeners, isDragging } = useDraggable({ id: `palette:${type}`, data: { type } })
  return (
    <li>
      <button ref={setNodeRef} type="button" className={`fd-palette-item${isDragging ? ' dragging' : ''}`} data-type={type}
        aria-label={t('formDesigner.addType', { type: text })} onPointerDown={listeners?.onPointerDown as React.PointerEventHandler<HTMLButtonElement> | undefined} onClick={onAdd}>
        <span aria-hidden="true">＋</span> {text}
      </button>
    </li>
  )
}

function SortableField({ item, language, selected, problems, onSelect, onRemove, children }: {
  item: DraftField; language: Language; selected: string | null; problems: Placed[]
  onSelect: (key: string) => void; onRemove: (key: string) => void; children?: ReactNode
}) {
  const { t } = useTranslation()
  const { attributes, listeners, setNodeRef, setActivatorNodeRef, transform, transition, isDragging } = useSortable({ id: item.key })
  const mine = problems.filter((p) => p.key === item.key)
  const text = label(item, language)
  return (
    <li ref={setNodeRef} style={{ transform: CSS.Translate.toString(transform), transition }} data-field={item.field.name}
      className={`fd-item${selected === item.key ? ' selected' : ''}${isDragging ? ' dragging' : ''}${mine.length ? ' invalid' : ''}`}>
      <div className="fd-item-row">
        <button type="button" ref={setActivatorNodeRef} className="fd-handle" {...attributes} {...listeners} aria-label={t('formDesigner.move', { field: text })}>⠿</button>
        <button type="button" className="fd-pick" aria-pressed={selected === item.key} onClick={() => onSelect(item.key)}
          aria-describedby={mine.length ? `fd-item-${item.key}-problem` : undefined}>
          <span className="fd-item-label">{text}</span>{' '}
          <span className="fd-item-meta">{t(`formDesigner.types.${item.field.type}`, { defaultValue: item.field.type })} · {item.field.name}{item.field.required ? ' · *' : ''}</span>
        </button>
        <button type="button" className="fd-remove" aria-label={t('formDesigner.remove', { field: text })} onClick={() => onRemove(item.key)}>×</button>
      </div>
      <Problems id={`fd-item-${item.key}-problem`} problems={mine} />
      {children}
    </li>
  )
}

/** A sub-table's columns, sortable among themselves (their own drag and drop context). */
function Columns({ table, types, language, selected, problems, onSelect, onRemove, onChange }: {
  table: DraftField; types: string[]; language: Language; selected: string | null; problems: Placed[]
  onSelect: (key: string) => void; onRemove: (key: string) => void; onChange: (children: DraftField[]) => void
}) {
  const { t } = useTranslation()
  const sensors = useSensors(useSensor(PointerSensor, { activationConstraint: { distance: 5 } }), useSensor(KeyboardSensor, { coordinateGetter: sortableKeyboardCoordinates }))
  const [type, setType] = useState('text')
  const children = table.children ?? []
  const tableLabel = label(table, language)
  return (
    <div className="fd-columns">
      <DndContext sensors={sensors} collisionDetection={closestCenter} onDragEnd={({ active, over }) => {
        if (!over || active.id === over.id) return
        onChange(moveItem(children, children.findIndex((c) => c.key === active.id), children.findIndex((c) => c.key === over.id)))
      }}>
        <SortableContext items={children.map((c) => c.key)} strategy={verticalListSortingStrategy}>
          <ol aria-label={t('formDesigner.columnsOf', { table: tableLabel })}>
            {children.map((c) => <SortableField key={c.key} item={c} language={language} selected={selected} problems={problems} onSelect={onSelect} onRemove={onRemove} />)}
          </ol>
        </SortableContext>
      </DndContext>
      <div className="row fd-add-column">
        <label>{t('formDesigner.columnType')}{' '}
          <select value={type} onChange={(e) => setType(e.target.value)}>
            {types.map((ty) => <option key={ty} value={ty}>{t(`formDesigner.types.${ty}`, { defaultValue: ty })}</option>)}
          </select>
        </label>
        <button type="button" onClick={() => {
          const key = newKey()
          onChange([...children, { key, field: newField(type, children.map((c) => c.field.name)) }])
          onSelect(key)
        }}>{t('formDesigner.addColumn', { table: tableLabel })}</button>
      </div>
    </div>
  )
}

function Canvas({ children, empty }: { children: ReactNode; empty: boolean }) {
  const { t } = useTranslation()
  const { setNodeRef, isOver } = useDroppable({ id: CANVAS })
  return (
    <div ref={setNodeRef} className={`fd-canvas${isOver ? ' over' : ''}`}>
      {empty && <p className="muted">{t('formDesigner.empty')}</p>}
      {children}
    </div>
  )
}

function FormSettings({ draft, isNew, name, setName, problems, onChange, language, indexable, publishedIndexes }: {
  draft: Draft; isNew: boolean; name: string; setName: (n: string) => void; problems: Placed[]
  onChange: (form: Record<string, Json>) => void; language: Language; indexable: string[]; publishedIndexes: string[]
}) {
  const { t } = useTranslation()
  const form = draft.form
  const at = (prop: string) => problems.filter((p) => p.key === null && p.prop === prop)
  const kept = Object.keys(form).filter((k) => !['name', 'title', 'description', 'translations', 'title_field', 'fields', 'indexes'].includes(k))
  const [adding, setAdding] = useState('')
  const indexes = indexesOf(form)
  const candidates = indexCandidates(draft, indexable)
  const fieldLabel = (fieldName: string) => {
    const f = draft.fields.find((x) => x.field.name === fieldName)
    return f ? label(f, language) : fieldName
  }
  const input = (id: string, text: string, value: string, change: (v: string) => void, own: Placed[], extra: Record<string, Json> = {}) => (
    <div className="fd-prop">
      <label htmlFor={id}>{text}</label>
      <input id={id} value={value} onChange={(e) => change(e.target.value)} aria-invalid={own.length ? true : undefined}
        aria-describedby={own.length ? `${id}-problem` : undefined} {...extra} />
      <Problems id={`${id}-problem`} problems={own} />
    </div>
  )
  return (
    <div className="fd-props">
      {isNew
        ? input('fd-form-name', t('formDesigner.formName'), name, setName, name && !NAME.test(name) ? [{ path: 'name', message: t('formDesigner.nameRule'), key: null, prop: 'name' }] : at('name'), { required: true })
        : <p className="muted">{t('formDesigner.formName')}: <code>{name}</code></p>}
      {input('fd-form-title-en', t('formDesigner.titleEn'), textOf(form, 'title', 'en'), (v) => onChange(withText(form, 'title', 'en', v)), at('title'))}
      {input('fd-form-title-zh', t('formDesigner.titleZh'), textOf(form, 'title', 'zh-CN'), (v) => onChange(withText(form, 'title', 'zh-CN', v)), at('translations'))}
      {input('fd-form-description', t('formDesigner.description'), textOf(form, 'description', 'en'), (v) => onChange(withText(form, 'description', 'en', v)), at('description'))}
      <div className="fd-prop">
        <label htmlFor="fd-form-title-field">{t('formDesigner.titleField')}</label>
        <select id="fd-form-title-field" value={form.title_field ?? ''} onChange={(e) => onChange(withKey(form, 'title_field', e.target.value || undefined))}>
          <option value="">—</option>
          {draft.fields.map((f) => <option key={f.key} value={f.field.name}>{label(f, language)}</option>)}
        </select>
        <Problems id="fd-form-title-field-problem" problems={at('title_field')} />
      </div>
      <fieldset className="fd-indexes" aria-describedby="fd-indexes-hint">
        <legend>{t('formDesigner.indexes')}</legend>
        <p id="fd-indexes-hint" className="muted">{t('formDesigner.indexesHint', { max: 12 })}</p>
        {indexes.length > 0 && (
          <ol>
            {indexes.map((n) => (
              <li key={n} data-index={n}>
                {fieldLabel(n)} <code>{n}</code>
                {publishedIndexes.includes(n)
                  ? <span className="muted"> — {t('formDesigner.indexPublished')}</span>
                  : <> <button type="button" onClick={() => onChange(withoutIndex(form, n, publishedIndexes))}
                    aria-label={t('formDesigner.indexRemove', { field: fieldLabel(n) })}>{t('formDesigner.indexRemoveShort')}</button></>}
              </li>
            ))}
          </ol>
        )}
        <div className="row">
          <label htmlFor="fd-index-add">{t('formDesigner.indexAdd')}</label>
          <select id="fd-index-add" value={adding} onChange={(e) => setAdding(e.target.value)}>
            <option value="">—</option>
            {candidates.map((f) => <option key={f.key} value={String(f.field.name)}>{label(f, language)}</option>)}
          </select>
          <button type="button" disabled={!adding || indexes.length >= 12}
            onClick={() => { onChange(withIndex(form, adding)); setAdding('') }}>{t('formDesigner.indexAddButton')}</button>
        </div>
        <Problems id="fd-indexes-problem" problems={problems.filter((p) => p.key === null && p.prop === 'indexes')} />
      </fieldset>
      <Problems id="fd-form-problems" problems={problems.filter((p) => p.key === null && !['name', 'title', 'translations', 'description', 'title_field', 'indexes'].includes(p.prop ?? ''))} />
      {kept.length > 0 && <p className="muted">{t('formDesigner.kept', { keys: kept.join(', ') })}</p>}
    </div>
  )
}

// the preview redrawn only when the checked draft changes, not on every keystroke of a long form
const Preview = memo(RecordForm)
const noop = () => undefined

const short = (value: Json) => {
  if (value === undefined) return ''
  const text = typeof value === 'string' ? value : JSON.stringify(value)
  return text.length > 80 ? `${text.slice(0, 77)}…` : text
}

/** One designer per form: another form's URL is another designer; the URL a new form gets when it is
 *  first saved (/admin/forms/new → /admin/forms/{name}) keeps the designer that made it. */
export default function FormDesignerRoute() {
  const { name = 'new' } = useParams()
  const created = useRef<string | null>(null)
  const [generation, setGeneration] = useState(0)
  useEffect(() => {
    if (created.current && name !== created.current) {
      created.current = null
      setGeneration((g) => g + 1)
    }
  }, [name])
  const key = name === 'new' || name === created.current ? `new-${generation}` : name
  return <FormDesigner key={key} onCreated={(made) => { created.current = made }} />
}

function FormDesigner({ onCreated }: { onCreated: (name: string) => void }) {
  const { t, i18n } = useTranslation()
  const language: Language = i18n.language === 'zh-CN' ? 'zh-CN' : 'en'
  const { name: routeName = 'new' } = useParams()
  const navigate = useNavigate()
  const queries = useQueryClient()
  const nav = useNavigation()
  const isNew = routeName === 'new'
  const [name, setName] = useState(isNew ? '' : routeName)
  const [created, setCreated] = useState(false)
  const stored = !isNew || created
  const [draft, setDraft] = useState<Draft | null>(isNew ? toDraft(NEW_FORM('')) : null)
  const [saved, setSaved] = useState<string | null>(null)
  const [selected, setSelected] = useState<string | null>(null)
  const [refusal, setRefusal] = useState<ApiError | null>(null)
  const [dragging, setDragging] = useState<string | null>(null)
  const [notice, setNotice] = useState('')

  const head = useQuery({ queryKey: ['formDesigner', 'head', name], queryFn: () => get<Head>(`/definitions/form/${encodeURIComponent(name)}`), enabled: stored && !!name, retry: false })
  const latest = head.data?.latest
  const published = head.data?.published ?? null
  const loaded = useQuery({
    queryKey: ['formDesigner', 'version', name, latest],
    queryFn: () => get<{ definition: Record<string, Json> }>(`/definitions/form/${encodeURIComponent(name)}/versions/${latest}`),
    enabled: !!latest && draft === null,
  })
  useEffect(() => {
    if (draft === null && loaded.data) {
      setDraft(toDraft(loaded.data.definition))
      setSaved(JSON.stringify(loaded.data.definition))
    }
  }, [draft, loaded.data])
  const publishedBody = useQuery({
    queryKey: ['formDesigner', 'version', name, published],
    queryFn: () => get<{ definition: Record<string, Json> }>(`/definitions/form/${encodeURIComponent(name)}/versions/${published}`),
    enabled: !!published,
  })
  const served = useQuery({ queryKey: ['definitionSchema', 'form'], queryFn: () => get('/definitions/schemas/form'), staleTime: Infinity })
  const types = useMemo(() => fieldTypes(served.data), [served.data])

  const definition = useMemo(() => (draft ? toDefinition({ ...draft, form: isNew && !created ? withKey(draft.form, 'name', name || undefined) : draft.form }) : null), [draft, isNew, created, name])
  const text = useMemo(() => (definition ? JSON.stringify(definition) : ''), [definition])
  const checking = useDebounced(text, 450)
  const checkName = NAME.test(name) ? name : 'draft'
  const check = useQuery({
    queryKey: ['formDesigner', 'check', checkName, checking],
    queryFn: () => post<Checked>(`/definitions/form/${encodeURIComponent(checkName)}/check`, JSON.parse(checking)),
    enabled: !!checking,
    placeholderData: keepPreviousData,
    retry: false,
  })
  const checkedText = useRef('')  // the draft the shown check is of
  if (check.data && !check.isPlaceholderData) checkedText.current = checking
  const lastPreview = useRef<JsonSchema | null>(null)
  if (check.data?.preview?.json_schema) lastPreview.current = check.data.preview.json_schema
  const refused = useMemo(() => refusal?.details ?? [], [refusal])
  // the check's problems read against the draft it checked (the draft may have moved on since); a
  // refusal is of the draft as it is (any edit clears it)
  const problems = useMemo(() => (draft ? [
    ...placeProblems(check.data?.problems ?? [], draft, check.data && checkedText.current ? JSON.parse(checkedText.current) : null),
    ...placeProblems(refused, draft),
  ] : []), [draft, check.data, refused])
  const dirty = saved !== text

  const diff = useQuery({
    queryKey: ['formDesigner', 'diff', name, published, latest],
    queryFn: () => get<{ changes: Change[] }>(`/definitions/form/${encodeURIComponent(name)}/diff?from=${published}&to=${latest}`),
    enabled: !!published && !!latest && published !== latest,
  })
  const latestBody = loaded.data?.definition

  const save = useMutation({
    mutationFn: () => post<{ version: number }>(`/definitions/form/${encodeURIComponent(name)}/versions?publish=false`, definition),
    onMutate: () => setRefusal(null),
    onSuccess: (answer) => {
      setSaved(text)
      setNotice(t('formDesigner.savedAs', { version: answer.version }))
      queries.setQueryData(['formDesigner', 'version', name, answer.version], { definition })
      void queries.invalidateQueries({ queryKey: ['formDesigner', 'head', name] })
      void queries.invalidateQueries({ queryKey: ['definitions'] })
      if (isNew && !created) {
        setCreated(true)
        onCreated(name)
        setDraft((d) => (d ? { ...d, form: withKey(d.form, 'name', name) } : d))
        navigate(`/admin/forms/${encodeURIComponent(name)}`, { replace: true })
      }
    },
    onError: (error) => setRefusal(error as ApiError),
  })
  const published_ = (version: number | undefined) => {
    setNotice(t('formDesigner.publishedVersion', { version }))
    void queries.invalidateQueries({ queryKey: ['formDesigner', 'head', name] })
    for (const key of [['definitions'], ['navigation'], ['schema', name]]) void queries.invalidateQueries({ queryKey: key })
  }
  const publish = useMutation({
    mutationFn: () => post(`/definitions/form/${encodeURIComponent(name)}/versions/${latest}/publish`, {}),
    onMutate: () => setRefusal(null),
    onSuccess: () => published_(latest),
    onError: (error) => setRefusal(error as ApiError),
  })

  const sensors = useSensors(useSensor(PointerSensor, { activationConstraint: { distance: 5 } }), useSensor(KeyboardSensor, { coordinateGetter: sortableKeyboardCoordinates }))
  const collision: CollisionDetection = (args) => {
    if (!String(args.active.id).startsWith('palette:')) return closestCenter(args)
    const hits = pointerWithin(args)
    const fields = hits.filter((h) => h.id !== CANVAS)
    return fields.length ? fields : hits
  }
  const fieldName = (id: string | number | undefined) => {
    if (id === undefined) return ''
    if (String(id).startsWith('palette:')) return t(`formDesigner.types.${String(id).slice(8)}`, { defaultValue: String(id).slice(8) })
    const f = draft?.fields.find((x) => x.key === id)
    return f ? label(f, language) : t('formDesigner.fieldList')
  }
  const position = (id: string | number | undefined) => (draft?.fields.findIndex((x) => x.key === id) ?? -1) + 1
  const announcements: Announcements = {
    onDragStart: ({ active }) => t('formDesigner.dnd.picked', { field: fieldName(active.id), position: position(active.id) }),
    onDragOver: ({ active, over }) => (over ? t('formDesigner.dnd.over', { field: fieldName(active.id), position: position(over.id) || '—' }) : t('formDesigner.dnd.outside', { field: fieldName(active.id) })),
    onDragEnd: ({ active, over }) => (over ? t('formDesigner.dnd.dropped', { field: fieldName(active.id), position: position(over.id) || '—' }) : t('formDesigner.dnd.cancelled', { field: fieldName(active.id) })),
    onDragCancel: ({ active }) => t('formDesigner.dnd.cancelled', { field: fieldName(active.id) }),
  }

  // the draft's problems at the preview's fields: its paths read against the draft that was checked
  const previewProblems = useMemo(() => {
    const checked = checkedText.current ? JSON.parse(checkedText.current) : null
    return (check.data?.problems ?? []).flatMap((p) => {
      const parts = pathParts(p.path ?? '')
      const field = parts[0] === 'fields' && typeof parts[1] === 'number' ? checked?.fields?.[parts[1]]?.name : null
      return field ? [{ path: `data.${field}`, message: p.message }] : []
    })
  }, [check.data, checking])
  const previewNote = useMemo(() => <p className="muted">{t('formDesigner.previewNote')}</p>, [t])

  if (!draft) {
    return (
      <section aria-labelledby="fd-title">
        <h2 id="fd-title">{t('formDesigner.title', { name })}</h2>
        {(head.error || loaded.error) ? <p role="alert" className="alert">{((head.error || loaded.error) as ApiError).message}</p> : <p role="status">{t('loading')}</p>}
      </section>
    )
  }

  const edit = (next: Draft) => {
    setDraft(next)
    setRefusal(null) // the refused draft is gone: the draft's own check speaks for the new one
  }
  const add = (type: string, at?: number) => {
    const key = newKey()
    const field = newField(type, draft.fields.map((f) => f.field.name), (nav.data?.forms ?? []).map((f) => f.name))
    const item: DraftField = { key, field, ...(type === 'subtable' ? { children: (field.fields as Json[]).map((c) => ({ key: newKey(), field: c })) } : {}) }
    const fields = draft.fields.slice()
    fields.splice(at === undefined || at < 0 ? fields.length : at, 0, item)
    edit({ ...draft, fields })
    setSelected(key)
    setNotice(t('formDesigner.added', { field: field.name }))
  }
  const remove = (key: string) => {
    edit(removeField(draft, key))
    if (selected === key) setSelected(null)
  }
  const onDragStart = (e: DragStartEvent) => setDragging(String(e.active.id))
  const onDragEnd = ({ active, over }: DragEndEvent) => {
    setDragging(null)
    if (!over) return
    const type = active.data.current?.type as string | undefined
    if (type) return add(type, over.id === CANVAS ? undefined : draft.fields.findIndex((f) => f.key === over.id))
    if (active.id === over.id) return
    const from = draft.fields.findIndex((f) => f.key === active.id)
    const to = over.id === CANVAS ? draft.fields.length - 1 : draft.fields.findIndex((f) => f.key === over.id)
    edit({ ...draft, fields: moveItem(draft.fields, from, to) })
  }

  const chosen = findField(draft, selected)
  const names = draft.fields.map((f) => f.field.name)
  const title = textOf(draft.form, 'title', language) || textOf(draft.form, 'title', 'en') || name
  const canSave = NAME.test(name) && !save.isPending
  const changes = diff.data?.changes ?? []
  const publishedDef = publishedBody.data?.definition
  // what the entry form leaves to the record page: files and photos (the upload flow), what the server writes
  const elsewhere = draft.fields.filter((f) => ['image', 'file', 'signature', 'computed', 'auto_number'].includes(f.field.type) || f.field.server_owned)
    .map((f) => label(f, language))
  const firstFields: Json[] = saved ? (JSON.parse(saved).fields ?? []) : []

  return (
    <section aria-labelledby="fd-title" className="fd">
      <div className="row fd-toolbar">
        <h2 id="fd-title">{t('formDesigner.title', { name: title || t('formDesigner.newForm') })}</h2>
        <span className="spacer" />
        <Link to="/admin/definitions">{t('formDesigner.back')}</Link>
        {stored && !!published && NAME.test(name) && <Link to={`/admin/workflows/${encodeURIComponent(name)}`}>{t('formDesigner.workflowLink')}</Link>}
        <button type="button" onClick={() => save.mutate()} disabled={!canSave || (!dirty && stored)}>{t('formDesigner.save')}</button>
        <button type="button" onClick={() => publish.mutate()} disabled={!latest || dirty || published === latest || publish.isPending}
          title={dirty ? t('formDesigner.saveFirst') : undefined}>{latest ? t('formDesigner.publish', { version: latest }) : t('formDesigner.publishNone')}</button>
      </div>
      <p role="status" className="fd-status">
        {notice}{notice && ' · '}
        {stored && head.data ? t('formDesigner.versions', { latest: head.data.latest, published: head.data.published ?? '—' }) : t('formDesigner.notSaved')}
        {dirty && stored && <> · <strong>{t('formDesigner.unsaved')}</strong></>}
        {check.data && <> · {check.data.problems.length ? t('formDesigner.problemCount', { count: check.data.problems.length }) : t('formDesigner.valid')}</>}
      </p>
      {(check.data?.warnings?.length ?? 0) > 0 && (
        <details className="fd-warnings">
          <summary>{t('formDesigner.warnings', { count: check.data!.warnings.length })}</summary>
          <ul>{check.data!.warnings.map((w: Json, i: number) => <li key={i}>{w?.path ? <><code>{describePath(String(w.path), definition ?? undefined)}</code>: </> : null}{typeof w === 'string' ? w : w?.message ?? JSON.stringify(w)}</li>)}</ul>
        </details>
      )}
      {refusal && (
        <div role="alert" className="alert fd-refusal">
          <p>{t('formDesigner.refused', { message: refusal.message })}</p>
          {refused.length > 0 && <ul>{refused.map((d, i) => <li key={i}><code>{describePath(d.path, definition ?? undefined)}</code>: {d.message}</li>)}</ul>}
        </div>
      )}

      <div className="fd-grid">
        <DndContext sensors={sensors} collisionDetection={collision} onDragStart={onDragStart} onDragEnd={onDragEnd} onDragCancel={() => setDragging(null)}
          autoScroll={{ threshold: { x: 0, y: 0.08 } }} accessibility={{ announcements, screenReaderInstructions: { draggable: t('formDesigner.dnd.instructions') } }}>
          <section aria-labelledby="fd-palette-title" className="fd-palette">
            <h3 id="fd-palette-title">{t('formDesigner.palette')}</h3>
            <p className="muted fd-hint">{t('formDesigner.paletteHint')}</p>
            <ul>{types.top.map((type) => <PaletteItem key={type} type={type} text={t(`formDesigner.types.${type}`, { defaultValue: type })} onAdd={() => add(type)} />)}</ul>
          </section>
          <section aria-labelledby="fd-fields-title" className="fd-fields">
            <h3 id="fd-fields-title">{t('formDesigner.fieldList')}</h3>
            <button type="button" className={`fd-form-settings${selected === null ? ' selected' : ''}`} aria-pressed={selected === null} onClick={() => setSelected(null)}>
              {t('formDesigner.formSettings')}
            </button>
            <Canvas empty={!draft.fields.length}>
              <SortableContext items={draft.fields.map((f) => f.key)} strategy={verticalListSortingStrategy}>
                <ol aria-labelledby="fd-fields-title" className="fd-list">
                  {draft.fields.map((f) => (
                    <SortableField key={f.key} item={f} language={language} selected={selected} problems={problems} onSelect={setSelected} onRemove={remove}>
                      {f.field.type === 'subtable' && (
                        <Columns table={f} types={types.rows} language={language} selected={selected} problems={problems} onSelect={setSelected} onRemove={remove}
                          onChange={(children) => edit(updateField(draft, f.key, (x) => ({ ...x, children })))} />
                      )}
                    </SortableField>
                  ))}
                </ol>
              </SortableContext>
            </Canvas>
          </section>
          <DragOverlay>{dragging?.startsWith('palette:') ? <span className="fd-palette-item fd-overlay">{fieldName(dragging)}</span> : null}</DragOverlay>
        </DndContext>

        <section aria-labelledby="fd-props-title" className="fd-properties">
          <h3 id="fd-props-title">{chosen ? t('formDesigner.propertiesOf', { field: label(chosen.field, language) }) : t('formDesigner.formSettings')}</h3>
          {chosen ? (
            <FieldProperties key={chosen.field.key} item={chosen.field} parent={chosen.parent} settings={types.settings[chosen.field.field.type]} types={types}
              problems={problems.filter((p) => p.key === chosen.field.key)} forms={(nav.data?.forms ?? []).map((f) => ({ name: f.name, title: f.title }))}
              expression={{
                form: checkName, definition, rows: chosen.parent ? chosen.parent.field.name : undefined,
                names: chosen.parent ? [...(chosen.parent.children ?? []).map((c) => c.field.name), ...names] : names,
              }}
              onChange={(field) => edit(updateField(draft, chosen.field.key, (x) => ({ ...x, field })))}
              onReplace={(next) => edit(updateField(draft, chosen.field.key, () => next))} />
          ) : (
            <FormSettings draft={draft} isNew={isNew && !created} name={name} setName={setName} problems={problems} language={language}
              indexable={indexableTypes(served.data)} publishedIndexes={indexesOf(publishedBody.data?.definition ?? {})}
              onChange={(form) => edit({ ...draft, form })} />
          )}
        </section>
      </div>

      <div className="fd-lower">
        <section aria-labelledby="fd-preview-title" className="fd-preview">
          <h3 id="fd-preview-title">{t('formDesigner.preview')}</h3>
          {check.data && !check.data.valid && <p className="muted">{t('formDesigner.previewStale')}</p>}
          {elsewhere.length > 0 && <p className="muted">{t('formDesigner.previewElsewhere', { fields: elsewhere.join(', ') })}</p>}
          {lastPreview.current ? (
            <PreviewBoundary reset={lastPreview.current} fallback={<p className="muted">{t('formDesigner.previewFailed')}</p>}>
              <Preview schema={lastPreview.current} problems={previewProblems} submitLabel={t('formDesigner.preview')} onSubmit={noop}>{previewNote}</Preview>
            </PreviewBoundary>
          ) : <p className="muted">{t('formDesigner.previewNone')}</p>}
        </section>
        <section aria-labelledby="fd-changes-title" className="fd-changes">
          <h3 id="fd-changes-title">{t('formDesigner.changes')}</h3>
          {dirty && stored && <p className="muted">{t('formDesigner.changesUnsaved')}</p>}
          {!stored || !latest ? <p className="muted">{t('formDesigner.changesNone')}</p>
            : !published ? (
              <>
                <p>{t('formDesigner.firstVersion', { version: latest, count: firstFields.length })}</p>
                <ul className="fd-diff" aria-label={t('formDesigner.firstVersion', { version: latest, count: firstFields.length })}>
                  {firstFields.map((f: Json, i: number) => <li key={i} data-op="add" data-path={`/fields/${i}`}><strong>{t('formDesigner.op.add')}</strong> <code>{f.name}</code> {short(f.label ?? '')}</li>)}
                </ul>
              </>
            )
              : published === latest ? <p>{t('formDesigner.upToDate', { version: published })}</p>
                : (
                  <>
                    <p>{t('formDesigner.changesFrom', { from: published, to: latest, count: changes.length })}</p>
                    <ul className="fd-diff" aria-label={t('formDesigner.changesFrom', { from: published, to: latest, count: changes.length })}>
                      {changes.map((c, i) => (
                        <li key={i} data-op={c.op} data-path={c.path}>
                          <strong>{t(`formDesigner.op.${c.op}`)}</strong>{' '}
                          <code>{describePath(c.path, c.op === 'remove' ? publishedDef : (latestBody ?? (saved ? JSON.parse(saved) : undefined)))}</code>
                          {c.op !== 'add' && c.old_value !== undefined && <> <del>{short(c.old_value)}</del></>}
                          {c.op !== 'remove' && c.value !== undefined && <> → <ins>{short(c.value)}</ins></>}
                        </li>
                      ))}
                    </ul>
                    {!dirty && <FormImpact key={latest} name={name} version={latest} published={published} onPublished={() => published_(latest)} />}
                  </>
                )}
        </section>
      </div>
      <p className="muted fd-hint">{t('formDesigner.keyboardHint')}</p>
    </section>
  )
}
