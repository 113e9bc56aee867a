import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { lazy, Suspense, useState } from 'react'
import { useTranslation } from 'react-i18next'
import { NavLink, Route, Routes, useSearchParams } from 'react-router'
import { ApiError, get, post, api } from '../lib/api'
import { formatDateTime } from '../lib/i18n'
import { useNavigation } from '../lib/queries'
import Schedules from './Schedules'
import WorkflowDesignerRoute from './designer/WorkflowDesignerRoute'
// the form designer carries the record form (RJSF) for its preview and drag and drop: loaded with it
const FormDesigner = lazy(() => import('./designer/FormDesigner'))
const Permissions = lazy(() => import('./designer/Permissions')) // the permissions designer (issue 15)
const ReportDesigner = lazy(() => import('./designer/ReportDesigner')) // report and dashboard designers (issue 15)
const DashboardDesigner = lazy(() => import('./designer/DashboardDesigner'))

interface Member { user_id: string; display_name: string; email: string | null; roles: string[]; active: boolean; attributes: Record<string, string> }
interface Head { kind: string; name: string; latest: number; published: number | null; updated_at: string | null }

function Members() {
  const { t } = useTranslation()
  const queries = useQueryClient()
  const members = useQuery({ queryKey: ['members'], queryFn: () => get<{ items: Member[] }>('/members') })
  const [roles, setRoles] = useState<Record<string, string>>({})
  const save = useMutation({
    mutationFn: (m: Member) => api('PUT', `/members/${encodeURIComponent(m.user_id)}`, {
      display_name: m.display_name, email: m.email, active: m.active, attributes: m.attributes,
      roles: (roles[m.user_id] ?? m.roles.join(', ')).split(',').map((r) => r.trim()).filter(Boolean),
    }),
    onSuccess: () => void queries.invalidateQueries({ queryKey: ['members'] }),
  })
  return (
    <section aria-labelledby="members-title">
      <h2 id="members-title">{t('members')}</h2>
      {save.error && <p role="alert" className="alert">{(save.error as ApiError).message}</p>}
      <table className="grid">
        <thead><tr><th scope="col">{t('user')}</th><th scope="col">{t('roles')}</th><th scope="col">{t('active')}</th><th scope="col"><span className="sr-only">{t('save')}</span></th></tr></thead>
        <tbody>
          {members.data?.items.map((m) => (
            <tr key={m.user_id}>
              <td>{m.display_name || m.user_id} <span className="muted">{m.user_id}</span></td>
              <td><input aria-label={`${t('roles')} ${m.user_id}`} value={roles[m.user_id] ?? m.roles.join(', ')} onChange={(e) => setRoles({ ...roles, [m.user_id]: e.target.value })} /></td>
              <td><input type="checkbox" aria-label={`${t('active')} ${m.user_id}`} checked={m.active} onChange={(e) => save.mutate({ ...m, active: e.target.checked })} /></td>
              <td><button type="button" onClick={() => save.mutate(m)}>{t('save')}</button></td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  )
}

function Definitions() {
  const { t } = useTranslation()
  const queries = useQueryClient()
  const heads = useQuery({ queryKey: ['definitions'], queryFn: () => get<{ items: Head[] }>('/definitions') })
  const [open, setOpen] = useState<{ kind: string; name: string; version: number } | null>(null)
  const body = useQuery({
    queryKey: ['definition', open],
    queryFn: () => get(`/definitions/${open!.kind}/${open!.name}/versions/${open!.version}`),
    enabled: !!open,
  })
  const publish = useMutation({
    mutationFn: (h: Head) => post(`/definitions/${h.kind}/${h.name}/versions/${h.latest}/publish`, {}),
    onSuccess: () => void queries.invalidateQueries({ queryKey: ['definitions'] }),
  })
  return (
    <section aria-labelledby="defs-title">
      <h2 id="defs-title">{t('definitions')}</h2>
      {publish.error && <p role="alert" className="alert">{(publish.error as ApiError).message}</p>}
      <p><NavLink to="/admin/forms/new">{t('formDesigner.newFormLink')}</NavLink></p>
      <p className="row"><NavLink to="/admin/reports/new">{t('reportDesigner.newReport')}</NavLink> <NavLink to="/admin/dashboards/new">{t('reportDesigner.newDashboard')}</NavLink></p>
      <table className="grid">
        <thead><tr><th scope="col">{t('kind')}</th><th scope="col">{t('name')}</th><th scope="col">{t('published')}</th><th scope="col">{t('latest')}</th><th scope="col"><span className="sr-only">{t('actions')}</span></th></tr></thead>
        <tbody>
          {heads.data?.items.map((h) => (
            <tr key={`${h.kind}:${h.name}`}>
              <td>{h.kind}</td><td>{h.name}</td><td>{h.published ?? '—'}</td><td>{h.latest}</td>
              <td className="row">
                <button type="button" onClick={() => setOpen({ kind: h.kind, name: h.name, version: h.latest })}>{t('viewJson')} {h.name}</button>
                {h.kind === 'workflow' && <NavLink to={`/admin/workflows/${encodeURIComponent(h.name)}`}>{t('flowDesigner.design')} {h.name}</NavLink>}
                {h.kind === 'form' && <NavLink to={`/admin/forms/${encodeURIComponent(h.name)}`}>{t('formDesigner.design')}<span className="sr-only"> {h.name}</span></NavLink>}
                {h.kind === 'form' && h.published && !heads.data?.items.some((w) => w.kind === 'workflow' && w.name === h.name) && (
                  <NavLink to={`/admin/workflows/${encodeURIComponent(h.name)}`}>{t('flowDesigner.design')} {h.name}</NavLink>
                )}
                {(h.kind === 'report' || h.kind === 'dashboard') && <NavLink to={`/admin/${h.kind}s/${encodeURIComponent(h.name)}`}>{t('reportDesigner.design')}<span className="sr-only"> {h.name}</span></NavLink>}
                {h.published !== h.latest && <button type="button" onClick={() => publish.mutate(h)}>{t('publish')} {h.name} v{h.latest}</button>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {open && body.data && (
        <section aria-label={`${open.kind} ${open.name} v${open.version}`}>
          <h3>{open.kind} {open.name} v{open.version}</h3>
          <pre className="json">{JSON.stringify(body.data, null, 2)}</pre>
        </section>
      )}
    </section>
  )
}

function Audit() {
  const { t } = useTranslation()
  const audit = useQuery({ queryKey: ['audit'], queryFn: () => get<{ items: { at: string; user: string; action: string; kind: string; name: string; version: number | null }[] }>('/audit?limit=100') })
  return (
    <section aria-labelledby="audit-title">
      <h2 id="audit-title">{t('audit')}</h2>
      <table className="grid">
        <thead><tr><th scope="col">{t('when')}</th><th scope="col">{t('user')}</th><th scope="col">{t('what')}</th></tr></thead>
        <tbody>
          {audit.data?.items.map((a, i) => (
            <tr key={i}><td>{formatDateTime(a.at)}</td><td>{a.user}</td><td>{a.action} {a.kind} {a.name}{a.version ? ` v${a.version}` : ''}</td></tr>
          ))}
        </tbody>
      </table>
    </section>
  )
}

function Access() {
  const { t } = useTranslation()
  const nav = useNavigation()
  const [params] = useSearchParams() // ?form= preselects the form (the permissions designer links here)
  const [ask, setAsk] = useState({ user: '', form: params.get('form') ?? '', record: '' })
  const [asked, setAsked] = useState<typeof ask | null>(null)
  const answer = useQuery({
    queryKey: ['access', asked],
    queryFn: () => get(`/forms/${encodeURIComponent(asked!.form)}/records/${encodeURIComponent(asked!.record)}/access?user=${encodeURIComponent(asked!.user)}`),
    enabled: !!asked,
    retry: false,
  })
  return (
    <section aria-labelledby="access-title">
      <h2 id="access-title">{t('accessQuestion')}</h2>
      <form className="filters" onSubmit={(e) => { e.preventDefault(); setAsked(ask) }}>
        <label>{t('user')} <input value={ask.user} onChange={(e) => setAsk({ ...ask, user: e.target.value })} required /></label>
        <label>{t('forms')} <select value={ask.form} onChange={(e) => setAsk({ ...ask, form: e.target.value })} required>
          <option value="">—</option>
          {nav.data?.forms.map((f) => <option key={f.name} value={f.name}>{f.title}</option>)}
        </select></label>
        <label>{t('record')} <input value={ask.record} onChange={(e) => setAsk({ ...ask, record: e.target.value })} required /></label>
        <button type="submit">{t('ask')}</button>
      </form>
      {answer.error && <p role="alert" className="alert">{(answer.error as ApiError).message}</p>}
      {answer.data && <pre className="json">{JSON.stringify(answer.data, null, 2)}</pre>}
    </section>
  )
}

export default function Admin() {
  const { t } = useTranslation()
  return (
    <section aria-labelledby="admin-title">
      <h1 id="admin-title">{t('admin')}</h1>
      <nav aria-label={t('admin')} className="row tabs">
        <NavLink to="/admin/members">{t('members')}</NavLink>
        <NavLink to="/admin/definitions">{t('definitions')}</NavLink>
        <NavLink to="/admin/schedules">{t('schedules')}</NavLink>
        <NavLink to="/admin/permissions">{t('permissionsGrid.tab')}</NavLink>
        <NavLink to="/admin/audit">{t('audit')}</NavLink>
        <NavLink to="/admin/access">{t('accessQuestion')}</NavLink>
      </nav>
      <Routes>
        <Route path="members" element={<Members />} />
        <Route path="definitions" element={<Definitions />} />
        <Route path="schedules" element={<Schedules />} />
        <Route path="workflows/:name" element={<WorkflowDesignerRoute />} />
        <Route path="forms/:name" element={<Suspense fallback={<p role="status">{t('loading')}</p>}><FormDesigner /></Suspense>} />
        <Route path="reports/:name" element={<Suspense fallback={<p role="status">{t('loading')}</p>}><ReportDesigner /></Suspense>} />
        <Route path="dashboards/:name" element={<Suspense fallback={<p role="status">{t('loading')}</p>}><DashboardDesigner /></Suspense>} />
        <Route path="permissions" element={<Suspense fallback={<p role="status">{t('loading')}</p>}><Permissions /></Suspense>} />
        <Route path="audit" element={<Audit />} />
        <Route path="access" element={<Access />} />
        <Route path="*" element={<Members />} />
      </Routes>
    </section>
  )
}
