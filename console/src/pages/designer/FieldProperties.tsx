import { useQuery } from '@tanstack/react-query'
import { useEffect, useState } from 'react'
import { useTranslation } from 'react-i18next'
import { post } from '../../lib/api'
import { changeType, positionOf, textOf, withKey, withText, type DraftField, type FieldJson, type Json, type Language, type Placed, type TypeInfo } from './formDraft'
import { useDebounced } from '../../lib/useDebounced'

// The property panel of the selected field: its name, labels in both languages, rules, options,
// lookup target, expressions (checked as they are typed) and every other setting its type has in the
// served JSON Schema. Problems of the draft are shown at the input they concern.

export { useDebounced } from '../../lib/useDebounced'

export interface ExpressionContext {
  form: string
  /** the draft form definition the expression is checked against (sent with it: a form never published
   *  is checked as it is drawn, and a field the draft adds is known) */
  definition: Record<string, Json> | null
  /** the sub-table the expression is a column of */
  rows?: string
  /** the names of the draft's fields the expression may read (its row's, then the record's) */
  names: string[]
}

interface ExpressionChecked { valid: boolean; error: { message: string; position: number | null } | null; fields: string[]; variables: string[] }

/** An expression input checked as it is typed: POST /forms/{form}/expressions/check (debounced) with the
 *  draft's definition — its fields decide, published or not — and the whole draft's check (the problems
 *  passed in) for the rest. */
export function ExpressionInput({ id, label, value, onChange, problems, context }: {
  id: string; label: string; value: string; onChange: (v: string) => void; problems: Placed[]; context: ExpressionContext
}) {
  const { t } = useTranslation()
  const typed = useDebounced(value, 350)
  // the check answers for the names the expression may read: asked again only when they change
  const names = context.names.join(',')
  const check = useQuery({
    queryKey: ['formDesigner', 'expression', context.form, context.rows ?? null, names, typed],
    queryFn: () => post<ExpressionChecked>(`/forms/${encodeURIComponent(context.form)}/expressions/check`,
      { expression: typed, definition: context.definition, ...(context.rows ? { rows: context.rows } : {}) }),
    enabled: context.definition !== null && typed.trim() !== '',
    retry: false,
    staleTime: 60_000,
  })
  const local = check.data && typed === value && !check.data.valid && check.data.error ? check.data.error : null
  const server = problems[0] ? { message: problems[0].message, position: positionOf(problems[0].message) } : null
  const shown = local ?? server
  const problemId = `${id}-problem`
  return (
    <div className="fd-prop">
      <label htmlFor={id}>{label}</label>
      <input id={id} className="fd-expression" value={value} spellCheck={false} autoComplete="off"
        aria-invalid={shown ? true : undefined} aria-describedby={shown ? problemId : undefined}
        onChange={(e) => onChange(e.target.value)} />
      {shown && (
        <div id={problemId} className="fd-problem" role="alert" data-problem-for={id}>
          {shown.message}
          {shown.position !== null && shown.position !== undefined && (
            <pre className="fd-caret" aria-hidden="true">{value}{'\n'}{' '.repeat(Math.min(shown.position, value.length))}^</pre>
          )}
        </div>
      )}
      {!shown && check.data?.valid && typed === value && check.data.fields.length > 0 && (
        <p className="muted fd-hint">{t('formDesigner.reads', { fields: check.data.fields.join(', ') })}</p>
      )}
    </div>
  )
}

/** The problems of one setting, at its input. */
export function Problems({ id, problems }: { id: string; problems: Placed[] }) {
  if (!problems.length) return null
  return <div id={id} className="fd-problem" role="alert">{problems.map((p, i) => <div key={i}>{p.message}</div>)}</div>
}

// settings drawn by their own inputs below; every other one the type has is drawn from its schema
const OWN = new Set(['name', 'type', 'label', 'translations', 'required', 'options', 'form', 'fields', 'expression',
  'visible_if', 'required_if', 'readonly_if', 'default', 'description'])
// the order of the settings drawn from the schema: limits first
const FIRST = ['minimum', 'maximum', 'min_length', 'max_length', 'pattern', 'min_items', 'max_items', 'min_rows', 'max_rows', 'scale', 'result']
const DEFAULT_TYPES = new Set(['text', 'textarea', 'number', 'money', 'percent', 'date', 'datetime', 'time', 'duration', 'select', 'checkbox',
  'rating', 'phone', 'email', 'url', 'user'])
const NUMERIC = new Set(['number', 'money', 'percent', 'duration', 'rating'])

type Kind = 'boolean' | 'integer' | 'number' | 'string' | 'enum' | 'strings'

function kindOf(schema: Json): { kind: Kind; values?: string[] } | null {
  const variants: Json[] = Array.isArray(schema?.anyOf) ? schema.anyOf.filter((v: Json) => v?.type !== 'null') : [schema ?? {}]
  const values = variants.flatMap((v) => (Array.isArray(v.enum) ? v.enum : v.const !== undefined ? [v.const] : []))
  if (values.length) return { kind: 'enum', values: values.map(String) }
  const types = variants.map((v) => v.type)
  if (types.includes('boolean')) return { kind: 'boolean' }
  if (types.includes('integer')) return { kind: 'integer' }
  if (types.includes('number')) return { kind: 'number' }
  if (types.includes('array') && variants.some((v) => v.items?.type === 'string')) return { kind: 'strings' }
  if (types.includes('string')) return { kind: 'string' }
  return null
}

interface Props {
  item: DraftField
  parent: DraftField | null
  settings: Record<string, Json> | undefined
  /** the types this field may take (a sub-table column's are fewer) and every type's settings */
  types?: TypeInfo
  problems: Placed[]
  forms: { name: string; title: string }[]
  expression: ExpressionContext
  onChange: (field: FieldJson) => void
  /** the field replaced whole (its type changed: a sub-table's columns come or go with it) */
  onReplace?: (item: DraftField) => void
}

export default function FieldProperties({ item, parent, settings, types, problems, forms, expression, onChange, onReplace }: Props) {
  const { t } = useTranslation()
  // the last type change, for its note and its undo (the panel stays while the field is selected)
  const [changed, setChanged] = useState<{ before: DraftField; from: string; dropped: string[] } | null>(null)
  const field = item.field
  const base = `fd-${item.key}`
  const at = (prop: string | null) => problems.filter((p) => p.prop === prop)
  const set = (key: string, value: Json) => onChange(withKey(field, key, value))
  const setText = (key: string, language: Language, text: string) => onChange(withText(field, key, language, text))
  const settingLabel = (key: string) => t(`formDesigner.settings.${key}`, { defaultValue: settings?.[key]?.title ?? key })
  const generic = Object.keys(settings ?? {}).filter((k) => !OWN.has(k))
    .sort((a, b) => (FIRST.indexOf(a) + 1 || 99) - (FIRST.indexOf(b) + 1 || 99))
  const drawn = new Set([...OWN, ...generic])
  const loose = problems.filter((p) => p.prop === null || !drawn.has(p.prop) || p.prop === 'type' || p.prop === 'fields')

  const text = (key: string, label: string, value: string, change: (v: string) => void, extra?: { problems?: Placed[]; multiline?: boolean }) => {
    const id = `${base}-${key}`
    const own = extra?.problems ?? []
    const props = {
      id, value, onChange: (e: React.ChangeEvent<HTMLInputElement & HTMLTextAreaElement>) => change(e.target.value),
      'aria-invalid': own.length ? true : undefined, 'aria-describedby': own.length ? `${id}-problem` : undefined,
    }
    return (
      <div className="fd-prop" key={key}>
        <label htmlFor={id}>{label}</label>
        {extra?.multiline ? <textarea rows={2} {...props} /> : <input {...props} />}
        <Problems id={`${id}-problem`} problems={own} />
      </div>
    )
  }
  const check = (key: string, label: string) => (
    <div className="fd-prop fd-check" key={key}>
      <label><input type="checkbox" checked={field[key] === true} onChange={(e) => set(key, e.target.checked ? true : (key in field ? false : undefined))} /> {label}</label>
      <Problems id={`${base}-${key}-problem`} problems={at(key)} />
    </div>
  )

  const drawGeneric = (key: string) => {
    const kind = kindOf(settings?.[key])
    if (!kind) return null
    const id = `${base}-${key}`
    const own = at(key)
    const label = settingLabel(key)
    const aria = { 'aria-invalid': own.length ? true : undefined, 'aria-describedby': own.length ? `${id}-problem` : undefined }
    if (kind.kind === 'boolean') return check(key, label)
    let input: React.ReactNode
    if (kind.kind === 'enum') {
      input = (
        <select id={id} value={field[key] ?? ''} onChange={(e) => set(key, e.target.value === '' ? undefined : e.target.value)} {...aria}>
          <option value="">{t('formDesigner.byDefault', { value: settings?.[key]?.default ?? '—' })}</option>
          {kind.values!.map((v) => <option key={v} value={v}>{v}</option>)}
        </select>
      )
    } else if (kind.kind === 'integer' || kind.kind === 'number') {
      input = (
        <input id={id} type="number" step={kind.kind === 'integer' ? 1 : 'any'} value={field[key] ?? ''} placeholder={settings?.[key]?.default != null ? String(settings[key].default) : ''}
          onChange={(e) => set(key, e.target.value === '' ? undefined : Number(e.target.value))} {...aria} />
      )
    } else if (kind.kind === 'strings') {
      input = (
        <input id={id} value={Array.isArray(field[key]) ? field[key].join(', ') : ''} placeholder={(settings?.[key]?.default ?? []).join?.(', ') ?? ''}
          onChange={(e) => set(key, e.target.value.trim() === '' ? undefined : e.target.value.split(',').map((s) => s.trim()).filter(Boolean))} {...aria} />
      )
    } else {
      input = <input id={id} value={field[key] ?? ''} onChange={(e) => set(key, e.target.value === '' ? undefined : e.target.value)} {...aria} />
    }
    return (
      <div className="fd-prop" key={key}>
        <label htmlFor={id}>{label}</label>
        {input}
        <Problems id={`${id}-problem`} problems={own} />
      </div>
    )
  }

  const exprInput = (key: string, label: string) => (
    <ExpressionInput key={key} id={`${base}-${key}`} label={label} value={field[key] ?? ''} problems={at(key)} context={expression}
      onChange={(v) => set(key, v === '' ? (key === 'expression' ? '' : undefined) : v)} />
  )

  const options: Json[] = Array.isArray(field.options) ? field.options : []
  const setOptions = (next: Json[]) => set('options', next)
  const moveOption = (i: number, to: number) => {
    if (to < 0 || to >= options.length) return
    const next = options.slice()
    const [o] = next.splice(i, 1)
    next.splice(to, 0, o)
    setOptions(next)
  }
  const name = textOf(field, 'label', 'en') || field.name

  return (
    <div className="fd-props" data-field={field.name}>
      <p className="muted">{t(`formDesigner.types.${field.type}`, { defaultValue: field.type })}{parent && <> · {t('formDesigner.columnOf', { table: textOf(parent.field, 'label', 'en') || parent.field.name })}</>}</p>
      {types && onReplace && (() => {
        const offered = parent ? types.rows : types.top
        const typeLabel = (ty: string) => t(`formDesigner.types.${ty}`, { defaultValue: ty })
        return (
          <div className="fd-prop">
            <label htmlFor={`${base}-type`}>{t('formDesigner.fieldType')}</label>
            <select id={`${base}-type`} value={field.type} aria-describedby={changed ? `${base}-type-note` : undefined} onChange={(e) => {
              const next = changeType(item, e.target.value, types.settings, forms.map((f) => f.name))
              setChanged({ before: item, from: field.type, dropped: next.dropped })
              onReplace(next.item)
            }}>
              {[...offered, ...(offered.includes(field.type) ? [] : [field.type])].map((ty) => <option key={ty} value={ty}>{typeLabel(ty)}</option>)}
            </select>
            {changed && (
              <p id={`${base}-type-note`} className="muted fd-hint" role="status">
                {t('formDesigner.typeChanged', { from: typeLabel(changed.from), to: typeLabel(field.type) })}{' '}
                {changed.dropped.length > 0 && t('formDesigner.typeDropped', { settings: changed.dropped.join(', ') })}{' '}
                <button type="button" onClick={() => { onReplace(changed.before); setChanged(null) }}>{t('formDesigner.typeUndo', { type: typeLabel(changed.from) })}</button>
              </p>
            )}
          </div>
        )
      })()}
      <Problems id={`${base}-problems`} problems={loose} />
      {text('name', t('formDesigner.name'), field.name ?? '', (v) => set('name', v), { problems: at('name') })}
      {text('label-en', t('formDesigner.labelEn'), textOf(field, 'label', 'en'), (v) => setText('label', 'en', v), { problems: at('label') })}
      {text('label-zh', t('formDesigner.labelZh'), textOf(field, 'label', 'zh-CN'), (v) => setText('label', 'zh-CN', v), { problems: at('translations') })}
      {check('required', t('formDesigner.required'))}

      {(field.type === 'select' || field.type === 'multiselect') && (
        <fieldset className="fd-options">
          <legend>{t('formDesigner.options')}</legend>
          <Problems id={`${base}-options-problem`} problems={at('options')} />
          <ol>
            {options.map((o, i) => {
              const which = o.value || `#${i + 1}`
              return (
                <li key={i} className="fd-option">
                  <input aria-label={t('formDesigner.optionValue', { option: i + 1 })} value={o.value ?? ''} onChange={(e) => setOptions(options.map((x, j) => (j === i ? { ...x, value: e.target.value } : x)))} />
                  <input aria-label={t('formDesigner.optionLabelEn', { option: which })} value={textOf(o, 'label', 'en')} onChange={(e) => setOptions(options.map((x, j) => (j === i ? withText(x, 'label', 'en', e.target.value) : x)))} />
                  <input aria-label={t('formDesigner.optionLabelZh', { option: which })} lang="zh-CN" value={textOf(o, 'label', 'zh-CN')} onChange={(e) => setOptions(options.map((x, j) => (j === i ? withText(x, 'label', 'zh-CN', e.target.value) : x)))} />
                  <span className="fd-buttons">
                    <button type="button" disabled={i === 0} aria-label={t('formDesigner.optionUp', { option: which })} onClick={() => moveOption(i, i - 1)}>↑</button>
                    <button type="button" disabled={i === options.length - 1} aria-label={t('formDesigner.optionDown', { option: which })} onClick={() => moveOption(i, i + 1)}>↓</button>
                    <button type="button" aria-label={t('formDesigner.optionRemove', { option: which })} onClick={() => setOptions(options.filter((_, j) => j !== i))}>×</button>
                  </span>
                </li>
              )
            })}
          </ol>
          <button type="button" onClick={() => {
            const taken = new Set(options.map((o) => o.value))
            let n = options.length + 1
            while (taken.has(`option_${n}`)) n++
            setOptions([...options, { value: `option_${n}`, label: `Option ${n}` }])
          }}>{t('formDesigner.addOption')}</button>
        </fieldset>
      )}

      {field.type === 'lookup' && (
        <div className="fd-prop">
          <label htmlFor={`${base}-form`}>{t('formDesigner.lookupForm')}</label>
          <select id={`${base}-form`} value={field.form ?? ''} onChange={(e) => set('form', e.target.value)}
            aria-invalid={at('form').length ? true : undefined} aria-describedby={at('form').length ? `${base}-form-problem` : undefined}>
            <option value="">—</option>
            {forms.map((f) => <option key={f.name} value={f.name}>{f.title} ({f.name})</option>)}
            {field.form && !forms.some((f) => f.name === field.form) && <option value={field.form}>{field.form}</option>}
          </select>
          <Problems id={`${base}-form-problem`} problems={at('form')} />
        </div>
      )}

      {field.type === 'computed' && exprInput('expression', t('formDesigner.expression'))}
      {field.type === 'subtable' && <p className="muted">{t('formDesigner.columnsHint', { count: item.children?.length ?? 0 })}</p>}

      {DEFAULT_TYPES.has(field.type) && (() => {
        const id = `${base}-default`
        const own = at('default')
        const aria = { id, 'aria-invalid': own.length ? true : undefined, 'aria-describedby': own.length ? `${id}-problem` : undefined }
        let input: React.ReactNode
        if (field.type === 'checkbox') {
          input = (
            <select {...aria} value={field.default === true ? 'true' : field.default === false ? 'false' : ''} onChange={(e) => set('default', e.target.value === '' ? undefined : e.target.value === 'true')}>
              <option value="">—</option><option value="true">✓</option><option value="false">✗</option>
            </select>
          )
        } else if (field.type === 'select') {
          input = (
            <select {...aria} value={field.default ?? ''} onChange={(e) => set('default', e.target.value === '' ? undefined : e.target.value)}>
              <option value="">—</option>
              {options.map((o, i) => <option key={i} value={o.value}>{textOf(o, 'label', 'en') || o.value}</option>)}
            </select>
          )
        } else if (NUMERIC.has(field.type)) {
          input = <input {...aria} type="number" step="any" value={field.default ?? ''} onChange={(e) => set('default', e.target.value === '' ? undefined : Number(e.target.value))} />
        } else {
          input = <input {...aria} value={field.default ?? ''} onChange={(e) => set('default', e.target.value === '' ? undefined : e.target.value)} />
        }
        return (
          <div className="fd-prop">
            <label htmlFor={id}>{t('formDesigner.default')}</label>
            {input}
            <Problems id={`${id}-problem`} problems={own} />
          </div>
        )
      })()}

      <fieldset className="fd-rules">
        <legend>{t('formDesigner.conditions')}</legend>
        {exprInput('visible_if', t('formDesigner.visibleIf'))}
        {exprInput('required_if', t('formDesigner.requiredIf'))}
        {exprInput('readonly_if', t('formDesigner.readonlyIf'))}
      </fieldset>

      {generic.length > 0 && (
        <fieldset className="fd-more">
          <legend>{t('formDesigner.moreSettings', { field: name })}</legend>
          {generic.map(drawGeneric)}
        </fieldset>
      )}
      {text('description', t('formDesigner.description'), textOf(field, 'description', 'en'), (v) => setText('description', 'en', v), { problems: at('description'), multiline: true })}
      {text('description-zh', t('formDesigner.descriptionZh'), textOf(field, 'description', 'zh-CN'), (v) => setText('description', 'zh-CN', v), { multiline: true })}
    </div>
  )
}
