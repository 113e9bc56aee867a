import { useQuery } from '@tanstack/react-query'
import { useTranslation } from 'react-i18next'
import { Link } from 'react-router'
import { get } from '../lib/api'
import { formatDateTime } from '../lib/i18n'
import { stateLabel, useNavigation } from '../lib/queries'

interface Task {
  record_id: string
  form: string
  number?: string
  state: string
  kind: string
  assignee: string
  created_at: string
  due_at?: string
}

export default function Inbox() {
  const { t } = useTranslation()
  const nav = useNavigation()
  const tasks = useQuery({ queryKey: ['tasks'], queryFn: () => get<{ items: Task[] }>('/tasks?limit=50') })
  const title = (form: string) => nav.data?.forms.find((f) => f.name === form)?.title ?? form
  return (
    <section aria-labelledby="inbox-title">
      <h1 id="inbox-title">{t('inbox')}</h1>
      {tasks.isLoading && <p role="status">{t('loading')}</p>}
      {tasks.error && <p role="alert">{t('error', { message: (tasks.error as Error).message })}</p>}
      {tasks.data && tasks.data.items.length === 0 && <p>{t('inboxEmpty')}</p>}
      {tasks.data && tasks.data.items.length > 0 && (
        <table className="grid">
          <thead>
            <tr><th scope="col">{t('record')}</th><th scope="col">{t('forms')}</th><th scope="col">{t('state')}</th><th scope="col">{t('assignee')}</th><th scope="col">{t('due')}</th></tr>
          </thead>
          <tbody>
            {tasks.data.items.map((task) => (
              <tr key={`${task.record_id}-${task.assignee}`}>
                <td><Link to={`/forms/${task.form}/records/${task.record_id}`}>{task.number || task.record_id}</Link></td>
                <td>{title(task.form)}</td>
                <td>{stateLabel(nav.data?.forms.find((f) => f.name === task.form), task.state)}</td>
                <td>{task.assignee}</td>
                <td>{formatDateTime(task.due_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  )
}
