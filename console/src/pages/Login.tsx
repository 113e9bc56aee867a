import { useQuery } from '@tanstack/react-query'
import { useTranslation } from 'react-i18next'
import { useLocation, useNavigate } from 'react-router'
import { signIn } from '../lib/auth'
import { config } from '../lib/config'
import { finishSignIn, startSignIn } from '../lib/oidc'
import { chooseLanguage, LANGUAGES } from '../lib/i18n'

interface LocalUser {
  user: string
  name: string
  roles: string[]
  token: string
}

// The local stack lists its demo users (devstack writes /local-users.json; a deployed stage has no
// such file and signs in through its Cognito user pool).
export default function Login() {
  const { t, i18n } = useTranslation()
  const navigate = useNavigate()
  const location = useLocation()
  const users = useQuery({
    queryKey: ['local-users'],
    enabled: config().auth === 'local',
    queryFn: async () => {
      const response = await fetch('/local-users.json', { cache: 'no-store' })
      if (!response.ok) return [] as LocalUser[]
      return (await response.json()) as LocalUser[]
    },
  })
  const choose = (u: LocalUser) => {
    signIn({ token: u.token, user: u.user, name: u.name })
    navigate((location.state as { from?: string } | null)?.from ?? '/', { replace: true })
  }
  return (
    <main id="main" className="login">
      <h1>{t('appName')}</h1>
      <label>
        {t('language')}{' '}
        <select value={i18n.language} onChange={(e) => chooseLanguage(e.target.value)}>
          {LANGUAGES.map((l) => <option key={l.code} value={l.code}>{l.label}</option>)}
        </select>
      </label>
      {config().auth === 'cognito' && (
        <p><button type="button" onClick={() => void startSignIn((location.state as { from?: string } | null)?.from ?? '/inbox')}>{t('signIn')}</button></p>
      )}
      {config().auth === 'local' && <h2>{t('localUsers')}</h2>}
      {users.isLoading && <p role="status">{t('loading')}</p>}
      <ul className="users">
        {users.data?.map((u) => (
          <li key={u.user}>
            <button type="button" onClick={() => choose(u)}>
              {t('signInAs', { user: u.name || u.user })}
            </button>{' '}
            <span className="muted">{u.user} · {u.roles.join(', ')}</span>
          </li>
        ))}
      </ul>
      {/* a full page load, not a console route: the local stack serves it */}
      {config().mail && <p><a href={`${config().mail}?lang=${i18n.language === 'zh-CN' ? 'zh' : 'en'}`}>{t('localMail')}</a></p>}
    </main>
  )
}

/** The identity provider sends the browser back here with the authorization code. */
export function Callback() {
  const { t } = useTranslation()
  const navigate = useNavigate()
  const done = useQuery({ queryKey: ['oidc-callback'], queryFn: finishSignIn, retry: false })
  if (done.data) navigate(done.data, { replace: true })
  return <main id="main" className="login"><p role={done.error ? 'alert' : 'status'}>{done.error ? String(done.error) : t('loading')}</p></main>
}
