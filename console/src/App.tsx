import type React from 'react'
import { lazy, Suspense } from 'react'
import { useTranslation } from 'react-i18next'
import { Navigate, Route, Routes, useLocation } from 'react-router'
import Layout from './Layout'
import { session } from './lib/auth'
import { isFieldWorker, useNavigation } from './lib/queries'
import Inbox from './pages/Inbox'
import Login, { Callback } from './pages/Login'
import Board from './pages/Board'
import Notifications from './pages/Notifications'
import RecordList from './pages/RecordList'

// Record pages carry the form renderer (RJSF + its validator): loaded with them, not with the shell.
const RecordPage = lazy(() => import('./pages/RecordPage'))
const NewRecord = lazy(() => import('./pages/NewRecord'))
const Admin = lazy(() => import('./pages/Admin'))
const BatchDispatch = lazy(() => import('./pages/BatchDispatch'))
// Dashboards carry Vega (vega-embed, vega-lite): loaded with them.
const Dashboard = lazy(() => import('./pages/Dashboard'))
// The field view (phones, offline): its record page carries the form renderer too.
const FieldList = lazy(() => import('./pages/field/FieldList'))
const FieldRecord = lazy(() => import('./pages/field/FieldRecord'))

function RequireSession({ children }: { children: React.ReactElement }) {
  const location = useLocation()
  if (!session()) return <Navigate to="/login" replace state={{ from: location.pathname }} />
  return children
}

/** Where a session starts: the field view for who works records in the field on a small screen
 *  (the engineer field's role, from the definitions), else the inbox. */
function Start() {
  const nav = useNavigation()
  // the navigation says who this is (wait for it, also while the persisted cache is restored)
  if (!nav.data && !nav.isError && navigator.onLine) return null
  const fieldWorker = isFieldWorker(nav.data)
  const small = typeof window !== 'undefined' && window.matchMedia?.('(max-width: 700px)').matches
  return <Navigate to={fieldWorker && small ? '/field' : '/inbox'} replace />
}

export default function App() {
  const { t } = useTranslation()
  return (
    <Suspense fallback={<p role="status">{t('loading')}</p>}>
      <Routes>
        <Route path="/login" element={<Login />} />
        <Route path="/callback" element={<Callback />} />
        <Route element={<RequireSession><Layout /></RequireSession>}>
          <Route index element={<Start />} />
          <Route path="/field" element={<FieldList />} />
          <Route path="/field/:form/:id" element={<FieldRecord />} />
          <Route path="/inbox" element={<Inbox />} />
          <Route path="/notifications" element={<Notifications />} />
          <Route path="/forms/:form" element={<RecordList />} />
          <Route path="/forms/:form/new" element={<NewRecord />} />
          <Route path="/forms/:form/board" element={<Board />} />
          <Route path="/forms/:form/dispatch" element={<BatchDispatch />} />
          <Route path="/admin/*" element={<Admin />} />
          <Route path="/dashboards/:name" element={<Dashboard />} />
          <Route path="/forms/:form/records/:id" element={<RecordPage />} />
          <Route path="*" element={<Navigate to="/inbox" replace />} />
        </Route>
      </Routes>
    </Suspense>
  )
}
