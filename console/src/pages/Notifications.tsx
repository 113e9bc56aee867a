import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { useTranslation } from 'react-i18next'
import { Link } from 'react-router'
import { get, post } from '../lib/api'
import { formatDateTime } from '../lib/i18n'
import { stateLabel, useNavigation } from '../lib/queries'

interface Note { id: string; kind: string; title?: string; record_id?: string | null; form?: string; number?: string | null; state?: string | null; read: boolean; created_at?: string }

const KNOWN = ['task.assigned', 'approval.requested', 'sla.reminder', 'sla.breached', 'order.completed']

export default function Notifications() {
  const { t } = useTranslation()
  const queries = useQueryClient()
  const nav = useNavigation()
  // a known kind is worded in the reader's language; the stored title (the server's words) otherwise
  const heading = (n: Note) => n.number && KNOWN.includes(n.kind)
    ? t(`notice.${n.kind.replace('.', '_')}`, { number: n.number, state: n.state ? stateLabel(nav.data?.forms.find((f) => f.name === n.form), n.state) : '' })
    : n.title || n.kind
  const feed = useQuery({ queryKey: ['notifications', 'feed'], queryFn: () => get<{ items: Note[]; unread: number }>('/notifications?limit=50') })
  const read = useMutation({
    mutationFn: (body: { ids: string[] } | { all: true }) => post('/notifications/read', body),
    onSuccess: () => void queries.invalidateQueries({ queryKey: ['notifications'] }),
  })
  return (
    <section aria-labelledby="notes-title">
      <div className="row">
        <h1 id="notes-title">{t('notifications')}</h1>
        <span className="spacer" />
        {!!feed.data?.unread && <button type="button" onClick={() => read.mutate({ all: true })}>{t('markAllRead')}</button>}
      </div>
      {feed.isLoading && <p role="status">{t('loading')}</p>}
      {feed.data && feed.data.items.length === 0 && <p>{t('noNotifications')}</p>}
      <ul className="notes">
        {feed.data?.items.map((n) => (
          <li key={n.id} className={n.read ? 'read' : 'unread'}>
            {!n.read && <span className="sr-only">{t('unreadItem')}</span>}
            <strong>{heading(n)}</strong>{' '}
            {n.record_id && n.form ? <Link to={`/forms/${n.form}/records/${n.record_id}`} onClick={() => !n.read && read.mutate({ ids: [n.id] })}>{n.number || n.record_id}</Link> : null}{' '}
            {n.created_at && <time className="muted">{formatDateTime(n.created_at)}</time>}{' '}
            {!n.read && <button type="button" onClick={() => read.mutate({ ids: [n.id] })}>{t('markRead')}</button>}
          </li>
        ))}
      </ul>
    </section>
  )
}
