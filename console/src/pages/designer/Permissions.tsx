// The permissions designer (Administration → Permissions, issue 15): every published form's grants as one
// grid (forms × actions, a checkbox per role in each cell), then per form its hidden / read-only fields
// per role and each role's row rule, checked as it is typed. Changes are collected per form, checked as
// uploads would be (POST /definitions/form/{name}/check, problems shown at the cell they concern),
// summarised, then saved as a new published version of each changed form with only `permissions` changed.
import { useQueries, useQuery, useQueryClient } from '@tanstack/react-query'
import { useEffect, useMemo, useRef, useState } from 'react'
import { useTranslation } from 'react-i18next'
import { Link, useSearchParams } from 'react-router'
import { ApiError, get, post, type Problem } from '../../lib/api'
import './Permissions.css'
import { useDebounced } from '../../lib/useDebounced'
import {
  ACTIONS, ADMIN, EVERYONE, RECORD_ACTIONS, RESERVED_ACTIONS, cellKey, changesOf, fieldKey, fieldList, grantableFields,
  hasGrant, problemsByTarget, rebase, rolesOf, rowKey, rowRule, setFieldFlag, setGrant, setRowRule, stillSeen, toSave,
  type Action, type Change, type Definition, type FieldKind,
} from './PermissionsModel'

interface Head { kind: string; name: string; latest: number; published: number | null }
interface Member { user_id: string; roles: string[] }
interface Checked { valid: boolean; problems: Problem[] }
interface ExpressionChecked { valid: boolean; error: { message: string; position: number | null } | null; fields: string[] }
interface Loaded { name: string; version: number; definition: Definition }


const textOf = (node: Definition | undefined, key: string, language: string): string =>
  node?.translations?.[language]?.[key] ?? node?.[key] ?? ''

/** A role as the page names it: '*' in words. */
function useRoleName() {
  const { t } = useTranslation()
  return (role: string) => (role === EVERYONE ? t('permissionsGrid.everyone') : role)
}

function Problems({ id, messages }: { id: string; messages: string[] | undefined }) {
  if (!messages?.length) return null
  return <ul id={id} className="perm-problem" role="alert">{messages.map((m, i) => <li key={i}>{m}</li>)}</ul>
}

/** A row rule, checked as it is typed against the published form (POST /forms/{form}/expressions/check),
 *  and the draft's check (the problems passed in) after Check or Save. */
function RuleInput({ form, formTitle, role, value, onChange, problems }: {
  form: string; formTitle: string; role: string; value: string; onChange: (v: string) => void; problems: string[] | undefined
}) {
  const { t } = useTranslation()
  const roleName = useRoleName()
  const typed = useDebounced(value, 350)
  const check = useQuery({
    queryKey: ['permissionsGrid', 'expression', form, typed],
    queryFn: () => post<ExpressionChecked>(`/forms/${encodeURIComponent(form)}/expressions/check`, { expression: typed }),
    enabled: typed.trim() !== '',
    retry: false,
    staleTime: 60_000,
  })
  const own = typed === value && value.trim() !== '' && check.data && !check.data.valid ? check.data.error : null
  const shown = own ? { message: own.message, position: own.position } : problems?.length ? { message: problems.join(' · '), position: null } : null
  const id = `rule-${form}-${role === EVERYONE ? 'everyone' : role}`
  return (
    <div className="perm-rule">
      <label htmlFor={id}>{t('permissionsGrid.ruleFor', { role: roleName(role), form: formTitle })}</label>
      <input id={id} className="perm-expression" value={value} spellCheck={false} autoComplete="off"
        placeholder={t('permissionsGrid.rulePlaceholder')}
        aria-invalid={shown ? true : undefined} aria-describedby={shown ? `${id}-problem` : `${id}-hint`}
        onChange={(e) => onChange(e.target.value)} />
      {shown ? (
        <div id={`${id}-problem`} className="perm-problem" role="alert" data-problem-for={id}>
          {shown.message}
          {shown.position !== null && shown.position !== undefined && (
            <pre className="perm-caret" aria-hidden="true">{value}{'\n'}{' '.repeat(Math.min(shown.position, value.length))}^</pre>
          )}
        </div>
      ) : (
        <p id={`${id}-hint`} className="muted perm-hint">
          {value.trim() === '' ? t('permissionsGrid.noRule')
            : check.isFetching || typed !== value ? t('permissionsGrid.checking')
            : check.data?.valid ? t('permissionsGrid.ruleOk', { fields: check.data.fields.join(', ') || '—' }) : ''}
        </p>
      )}
    </div>
  )
}

/** One form's field grants (fields × roles: hide / read-only) and its roles' row rules. */
function FormDetail({ loaded, def, roles, problems, onChange, focus }: {
  loaded: Loaded; def: Definition; roles: string[]; problems: Record<string, string[]>; onChange: (d: Definition) => void; focus: boolean
}) {
  const { t, i18n } = useTranslation()
  const heading = useRef<HTMLHeadingElement>(null)
  useEffect(() => { // opened from the grid: there, and read out
    if (focus) heading.current?.focus() // (focus scrolls it into view)
  }, [focus])
  const roleName = useRoleName()
  const title = textOf(def, 'title', i18n.language) || loaded.name
  const fields = grantableFields(def)
  const flag = (role: string, kind: FieldKind, field: string, on: boolean) => onChange(setFieldFlag(def, role, kind, field, on))
  return (
    <section aria-labelledby="perm-detail-title" className="perm-detail">
      <h3 id="perm-detail-title" ref={heading} tabIndex={-1}>{t('permissionsGrid.detailTitle', { form: title })}</h3>
      <p className="muted">
        {t('permissionsGrid.detailHelp')}{' '}
        <Link to={`/admin/access?form=${encodeURIComponent(loaded.name)}`}>{t('permissionsGrid.whyLink', { form: title })}</Link>
      </p>
      <div className="perm-scroll">
        <table className="grid perm-fields">
          <caption>{t('permissionsGrid.fieldsCaption', { form: title })}</caption>
          <thead>
            <tr>
              <th scope="col">{t('permissionsGrid.field')}</th>
              {roles.map((r) => <th key={r} scope="col">{roleName(r)}</th>)}
            </tr>
          </thead>
          <tbody>
            {fields.map((f) => {
              const label = textOf(f, 'label', i18n.language) || f.name
              return (
                <tr key={f.name}>
                  <th scope="row">{label} <span className="muted">{f.name}</span></th>
                  {roles.map((r) => {
                    const hidden = fieldList(def, r, 'hidden').includes(f.name)
                    const readonly = fieldList(def, r, 'readonly').includes(f.name)
                    const messages = [...(problems[fieldKey(r, 'hidden', f.name)] ?? []), ...(problems[fieldKey(r, 'readonly', f.name)] ?? [])]
                    const pid = `perm-f-${loaded.name}-${f.name}-${r === EVERYONE ? 'everyone' : r}`
                    return (
                      <td key={r} className={hidden || readonly ? 'perm-set' : undefined}>
                        <label className="perm-check">
                          <input type="checkbox" checked={hidden} onChange={(e) => flag(r, 'hidden', f.name, e.target.checked)}
                            aria-label={t('permissionsGrid.hideField', { field: label, role: roleName(r) })}
                            aria-describedby={messages.length ? pid : undefined} />
                          {t('permissionsGrid.hide')}
                        </label>
                        <label className="perm-check">
                          <input type="checkbox" checked={readonly} onChange={(e) => flag(r, 'readonly', f.name, e.target.checked)}
                            aria-label={t('permissionsGrid.readonlyField', { field: label, role: roleName(r) })}
                            aria-describedby={messages.length ? pid : undefined} />
                          {t('permissionsGrid.readonly')}
                        </label>
                        <Problems id={pid} messages={messages} />
                      </td>
                    )
                  })}
                </tr>
              )
            })}
          </tbody>
        </table>
      </div>
      {roles.map((r) => {
        const seen = stillSeen(def, r)
        if (!seen.length) return null
        const names = seen.map((n) => textOf(fields.find((f) => f.name === n), 'label', i18n.language) || n).join(', ')
        return <p key={r} className="perm-warning">{t('permissionsGrid.stillSeen', { role: roleName(r), fields: names, form: title, everyone: roleName(EVERYONE) })}</p>
      })}
      {Object.entries(problems).filter(([k]) => k.startsWith('field:') && !fields.some((f) => k.endsWith(`:${f.name}`))).map(([k, m]) => (
        <p key={k} role="alert" className="alert">{k.split(':').slice(1, 3).join(' ')}: {m.join(' · ')}</p>
      ))}
      <fieldset className="perm-rules">
        <legend>{t('permissionsGrid.rulesTitle')}</legend>
        <p className="muted">{t('permissionsGrid.rulesHelp')}</p>
        {roles.map((r) => (
          <RuleInput key={r} form={loaded.name} formTitle={title} role={r} value={rowRule(def, r)}
            onChange={(v) => onChange(setRowRule(def, r, v))} problems={problems[rowKey(r)]} />
        ))}
      </fieldset>
    </section>
  )
}

export default function Permissions() {
  const { t, i18n } = useTranslation()
  const roleName = useRoleName()
  const queries = useQueryClient()
  const [params, setParams] = useSearchParams()
  const heads = useQuery({ queryKey: ['definitions'], queryFn: () => get<{ items: Head[] }>('/definitions') })
  const members = useQuery({ queryKey: ['members'], queryFn: () => get<{ items: Member[] }>('/members') })
  const forms = (heads.data?.items ?? []).filter((h) => h.kind === 'form' && h.published)
  const versions = useQueries({
    queries: forms.map((h) => ({
      queryKey: ['permissionsGrid', 'form', h.name, h.published],
      queryFn: async (): Promise<Loaded> => ({
        name: h.name, version: h.published!,
        definition: (await get<{ definition: Definition }>(`/definitions/form/${encodeURIComponent(h.name)}/versions/${h.published}`)).definition,
      }),
      staleTime: Infinity,
    })),
  })
  const loaded: Loaded[] = versions.flatMap((q) => (q.data ? [q.data] : []))
  const [drafts, setDrafts] = useState<Record<string, Definition>>({})
  const [checks, setChecks] = useState<Record<string, { doc: Definition; problems: Problem[] }>>({})
  const [extraRoles, setExtraRoles] = useState<string[]>([])
  const [newRole, setNewRole] = useState('')
  const [busy, setBusy] = useState<'check' | 'save' | null>(null)
  const [status, setStatus] = useState('')
  const [failure, setFailure] = useState<string | null>(null)
  const selected = params.get('form')
  const opened = useRef(false) // the detail was opened by its button (not by the address)

  const memberRoles = useMemo(() => (members.data?.items ?? []).flatMap((m) => m.roles), [members.data])
  const roles = useMemo(() => {
    const all = rolesOf([...loaded.map((l) => l.definition), ...Object.values(drafts)], [...memberRoles, ...extraRoles])
    return all
  }, [loaded, drafts, memberRoles, extraRoles])
  const defOf = (l: Loaded) => drafts[l.name] ?? l.definition
  const titleOf = (l: Loaded) => textOf(defOf(l), 'title', i18n.language) || l.name
  const changes: { form: Loaded; list: Change[] }[] = loaded
    .filter((l) => drafts[l.name])
    .map((l) => ({ form: l, list: changesOf(l.name, l.definition, drafts[l.name]) }))
    .filter((c) => c.list.length > 0)
  const grouped = useMemo(() => Object.fromEntries(loaded.map((l) => [l.name, checks[l.name] ? problemsByTarget(checks[l.name].doc, checks[l.name].problems) : {}])),
    [loaded, drafts, checks])

  const unsaved = changes.length > 0
  useEffect(() => { // leaving the page (or reloading it) with changes not saved asks first
    if (!unsaved) return
    const ask = (e: BeforeUnloadEvent) => e.preventDefault()
    window.addEventListener('beforeunload', ask)
    return () => window.removeEventListener('beforeunload', ask)
  }, [unsaved])

  const edit = (name: string, def: Definition) => {
    setDrafts((d) => ({ ...d, [name]: def }))
    setChecks(({ [name]: _stale, ...c }) => c)
    setStatus('')
  }
  const actionName = (a: Action) => t(`permissionsGrid.action.${a}`)

  const describe = (c: Change, title: string): string => {
    const role = roleName(c.role)
    switch (c.kind) {
      case 'grant': case 'revoke': return t(`permissionsGrid.change.${c.kind}`, { role, action: actionName(c.action), form: title })
      case 'hide': case 'show': case 'readonly': case 'writable': {
        const l = loaded.find((x) => x.name === c.form)
        const field = grantableFields(l ? defOf(l) : {}).find((f) => f.name === c.field)
        return t(`permissionsGrid.change.${c.kind}`, { role, field: textOf(field, 'label', i18n.language) || c.field, form: title })
      }
      default: return t(`permissionsGrid.change.${c.kind}`, { role, rule: c.rule, before: c.before, form: title })
    }
  }

  /** Each changed form as it would be saved: its changes made on the version published now (the same as
   *  the grid's unless someone published one since), so nothing another author changed meanwhile is undone. */
  const prepare = () => Promise.all(changes.map(async ({ form, list }) => {
    const head = await get<Head>(`/definitions/form/${encodeURIComponent(form.name)}`)
    if (!head.published || head.published === form.version) return { form, base: form.version, doc: toSave(form.definition, drafts[form.name]) }
    const latest = (await get<{ definition: Definition }>(`/definitions/form/${encodeURIComponent(form.name)}/versions/${head.published}`)).definition
    return { form, base: head.published, doc: toSave(latest, rebase(latest, list)) }
  }))
  type Prepared = Awaited<ReturnType<typeof prepare>>

  /** The server's check of every changed form (problems kept with the document they are about). */
  const checkAll = async (prepared: Prepared): Promise<boolean> => {
    setFailure(null)
    const answers = await Promise.all(prepared.map(async ({ form, doc }) =>
      [form.name, doc, await post<Checked>(`/definitions/form/${encodeURIComponent(form.name)}/check`, doc)] as const))
    setChecks((c) => ({ ...c, ...Object.fromEntries(answers.map(([n, doc, a]) => [n, { doc, problems: a.problems }])) }))
    const bad = answers.filter(([, , a]) => !a.valid)
    if (bad.length) {
      setStatus(t('permissionsGrid.checkFailed', { count: bad.reduce((n, [, , a]) => n + a.problems.length, 0) }))
      if (!selected || !bad.some(([n]) => n === selected)) setParams({ form: bad[0][0] }) // show the first form with a problem
      return false
    }
    const moved = prepared.filter((p) => p.base !== p.form.version)
    setStatus([t('permissionsGrid.checkPassed'), ...moved.map((p) => t('permissionsGrid.rebased', { form: titleOf(p.form), version: p.base }))].join(' '))
    return true
  }
  const run = async (what: 'check' | 'save') => {
    setBusy(what)
    try {
      const prepared = await prepare()
      if (!(await checkAll(prepared)) || what === 'check') return
      const saved: string[] = []
      for (const { form, doc } of prepared) {
        const answer = await post<{ version: number }>(`/definitions/form/${encodeURIComponent(form.name)}/versions`, doc)
        saved.push(t('permissionsGrid.savedOne', { form: titleOf(form), version: answer.version }))
        // the grid shows the new version at once (the list of versions is fetched again below)
        queries.setQueryData(['permissionsGrid', 'form', form.name, answer.version], { name: form.name, version: answer.version, definition: doc })
        queries.setQueryData<{ items: Head[] }>(['definitions'], (old) => old && ({
          ...old, items: old.items.map((h) => (h.kind === 'form' && h.name === form.name ? { ...h, latest: answer.version, published: answer.version } : h)),
        }))
        setDrafts((d) => { const { [form.name]: _gone, ...rest } = d; return rest })
      }
      setChecks({})
      const moved = prepared.filter((p) => p.base !== p.form.version)
      setStatus([t('permissionsGrid.saved', { forms: saved.join(', ') }),
        ...moved.map((p) => t('permissionsGrid.rebased', { form: titleOf(p.form), version: p.base }))].join(' '))
      await queries.invalidateQueries({ queryKey: ['definitions'] })
    } catch (e) {
      const error = e as ApiError
      setFailure(`${error.message}${(error.details ?? []).map((d) => ` · ${d.path}: ${d.message}`).join('')}`)
    } finally {
      setBusy(null)
    }
  }

  const selectedForm = loaded.find((l) => l.name === selected)
  const loading = heads.isLoading || versions.some((q) => q.isLoading)
  return (
    <section aria-labelledby="perm-title" className="perm">
      <h2 id="perm-title">{t('permissionsGrid.title')}</h2>
      <p className="muted">{t('permissionsGrid.help')}</p>
      {heads.error && <p role="alert" className="alert">{(heads.error as ApiError).message}</p>}
      <form className="row perm-add-role" onSubmit={(e) => {
        e.preventDefault()
        const role = newRole.trim()
        if (/^[A-Za-z0-9_.-]{1,64}$/.test(role) && !roles.includes(role) && role !== ADMIN) setExtraRoles((r) => [...r, role])
        setNewRole('')
      }}>
        <label>{t('permissionsGrid.addRole')} <input value={newRole} pattern={"[A-Za-z0-9_.\\-]{1,64}"} onChange={(e) => setNewRole(e.target.value)} /></label>
        <button type="submit">{t('permissionsGrid.addRoleButton')}</button>
        <span className="muted">{t('permissionsGrid.adminAlways')}</span>
      </form>
      {loading && <p role="status">{t('loading')}</p>}
      <div className="perm-scroll">
        <table className="grid perm-grid">
          <caption>{t('permissionsGrid.gridCaption')}</caption>
          <colgroup span={2} />
          <colgroup span={RECORD_ACTIONS.length} />
          <colgroup span={RESERVED_ACTIONS.length} />
          <thead>
            <tr>
              <th scope="col" rowSpan={2}>{t('forms')}</th>
              <th scope="col" rowSpan={2}>{t('permissionsGrid.role')}</th>
              <th scope="colgroup" colSpan={RECORD_ACTIONS.length}>{t('permissionsGrid.recordActions')}</th>
              <th scope="colgroup" colSpan={RESERVED_ACTIONS.length} className="perm-reserved">{t('permissionsGrid.reservedActions')}</th>
            </tr>
            <tr>{ACTIONS.map((a) => <th key={a} scope="col" className={RESERVED_ACTIONS.includes(a as never) ? 'perm-reserved' : undefined}>{actionName(a)}</th>)}</tr>
          </thead>
          {loaded.map((l) => {
            const def = defOf(l)
            const title = titleOf(l)
            const problems = grouped[l.name] ?? {}
            const changed = changes.some((c) => c.form.name === l.name)
            const elsewhere = Object.entries(problems).filter(([k]) => k === 'form' || k.startsWith('row:') || k.startsWith('field:')).length
            return (
              <tbody key={l.name} className={changed ? 'perm-changed' : undefined}>
                {roles.map((r, i) => (
                  <tr key={r}>
                    {i === 0 && (
                      <th scope="rowgroup" rowSpan={roles.length} className="perm-formcell">
                        <span className="perm-form">{title}</span> <span className="muted">{l.name} v{l.version}</span>
                        {changed && <span className="perm-tag">{t('permissionsGrid.changed')}</span>}
                        <div>
                          <button type="button" aria-pressed={selected === l.name} onClick={() => { opened.current = selected !== l.name; setParams(selected === l.name ? {} : { form: l.name }) }}>
                            {t('permissionsGrid.fieldsAndRules')}<span className="sr-only"> {title}</span>
                          </button>
                        </div>
                        {elsewhere > 0 && <p className="perm-problem">{t('permissionsGrid.problemsBelow', { count: elsewhere })}</p>}
                        <Problems id={`perm-form-${l.name}`} messages={problems.form} />
                      </th>
                    )}
                    <th scope="row" className="perm-role">{roleName(r)}</th>
                    {ACTIONS.map((a) => {
                      const messages = problems[cellKey(a, r)]
                      const pid = `perm-c-${l.name}-${a}-${r === EVERYONE ? 'everyone' : r}`
                      const on = hasGrant(def, a, r)
                      return (
                        <td key={a} className={`${RESERVED_ACTIONS.includes(a as never) ? 'perm-reserved' : ''}${on ? ' perm-on' : ''}`}>
                          <input type="checkbox" checked={on} onChange={(e) => edit(l.name, setGrant(def, a, r, e.target.checked))}
                            aria-label={t('permissionsGrid.may', { role: roleName(r), action: actionName(a), form: title })}
                            aria-invalid={messages ? true : undefined} aria-describedby={messages ? pid : undefined} />
                          <Problems id={pid} messages={messages} />
                        </td>
                      )
                    })}
                  </tr>
                ))}
              </tbody>
            )
          })}
        </table>
      </div>

      {selectedForm && (
        <FormDetail key={selectedForm.name} loaded={selectedForm} def={defOf(selectedForm)} roles={roles}
          problems={grouped[selectedForm.name] ?? {}} onChange={(d) => edit(selectedForm.name, d)} focus={opened.current} />
      )}

      <section aria-labelledby="perm-changes-title" className="perm-changes">
        <h3 id="perm-changes-title">{t('permissionsGrid.changesTitle')}</h3>
        {changes.length === 0 ? <p className="muted">{t('permissionsGrid.noChanges')}</p> : (
          <ul className="perm-summary">
            {changes.map(({ form, list }) => (
              <li key={form.name}>
                <strong>{titleOf(form)}</strong> <span className="muted">{t('permissionsGrid.newVersion', { version: form.version })}</span>
                <ul>{list.map((c, i) => <li key={i}>{describe(c, titleOf(form))}</li>)}</ul>
              </li>
            ))}
          </ul>
        )}
        <div className="row">
          <button type="button" onClick={() => void run('check')} disabled={!changes.length || !!busy}>{t('permissionsGrid.check')}</button>
          <button type="button" className="primary" onClick={() => void run('save')} disabled={!changes.length || !!busy}>
            {changes.length ? t('permissionsGrid.save', { count: changes.length }) : t('permissionsGrid.saveNothing')}
          </button>
          <button type="button" onClick={() => { setDrafts({}); setChecks({}); setStatus('') }} disabled={!changes.length || !!busy}>{t('permissionsGrid.discard')}</button>
        </div>
        <p role="status" aria-live="polite" className="perm-status">{busy === 'check' ? t('permissionsGrid.checking') : busy === 'save' ? t('permissionsGrid.saving') : status}</p>
        {failure && <p role="alert" className="alert">{failure}</p>}
      </section>
    </section>
  )
}
