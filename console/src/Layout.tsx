import { useQueryClient } from '@tanstack/react-query'
import { useTranslation } from 'react-i18next'
import { NavLink, Outlet, useNavigate } from 'react-router'
import { signOut } from './lib/auth'
import { chooseLanguage, LANGUAGES } from './lib/i18n'
import { isFieldWorker, useNavigation, useUnread } from './lib/queries'
import { useOnline, useQueue, useSyncDriver } from './offline/hooks'

export default function Layout() {
  const { t, i18n } = useTranslation()
  const nav = useNavigation()
  const unread = useUnread()
  const navigate = useNavigate()
  const queries = useQueryClient()
  const hasFieldWork = isFieldWorker(nav.data)
  useSyncDriver(hasFieldWork) // the device's queue goes up whenever there is a network
  const online = useOnline()
  const queue = useQueue()
  const waiting = (queue.data ?? []).filter((e) => e.state === 'pending').length
  const problems = (queue.data ?? []).length - waiting // refused or in conflict: a person decides
  const logout = () => {
    signOut()
    queries.clear()
    navigate('/login')
  }
  return (
    <div className="shell">
      <a className="skip" href="#main">{t('skip')}</a>
      <header className="topbar">
        <strong>{t('appName')}</strong>
        <span className="spacer" />
        {!online && <span className="badge off" role="status">{t('offline')}</span>}
        {hasFieldWork && waiting > 0 && (
          <NavLink className="badge" to="/field">{t('toSync', { count: waiting })}</NavLink>
        )}
        {hasFieldWork && problems > 0 && <NavLink className="badge off" to="/field">{t('needsYou')}: {problems}</NavLink>}
        {unread.data && (
          <NavLink className="badge" to="/notifications" aria-label={`${t('notifications')}: ${t('unread', { count: unread.data.unread })}`}>
            {t('notifications')}: {unread.data.unread}
          </NavLink>
        )}
        <label>
          {t('language')}{' '}
          <select value={i18n.language} onChange={(e) => chooseLanguage(e.target.value)}>
            {LANGUAGES.map((l) => (
              <option key={l.code} value={l.code}>{l.label}</option>
            ))}
          </select>
        </label>
        <span className="who">{nav.data?.user.name || nav.data?.user.id}</span>
        <button type="button" onClick={logout}>{t('signOut')}</button>
      </header>
      <div className="body">
        <nav aria-label={t('forms')} className="sidebar">
          <ul>
            <li><NavLink to="/inbox">{t('inbox')}</NavLink></li>
            {hasFieldWork && <li><NavLink to="/field">{t('fieldApp')}</NavLink></li>}
          </ul>
          {nav.data?.admin && (
            <ul>
              <li><NavLink to="/admin/members">{t('admin')}</NavLink></li>
            </ul>
          )}
          <h2>{t('forms')}</h2>
          <ul>
            {nav.data?.forms.map((f) => (
              <li key={f.name}><NavLink to={`/forms/${f.name}`}>{f.title}</NavLink></li>
            ))}
          </ul>
          {!!nav.data?.dashboards.length && (
            <>
              <h2>{t('dashboards')}</h2>
              <ul>
                {nav.data.dashboards.map((d) => (
                  <li key={d.name}><NavLink to={`/dashboards/${encodeURIComponent(d.name)}`}>{d.title || d.name}</NavLink></li>
                ))}
              </ul>
            </>
          )}
        </nav>
        <main id="main" className="content">
          <Outlet />
        </main>
      </div>
    </div>
  )
}
