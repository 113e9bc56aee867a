import { useQueryClient } from '@tanstack/react-query'
import { useTranslation } from 'react-i18next'
import { unwrapNullable } from '../forms/rjsf'
import { isOnline } from '../lib/network'
import { formatDateTime } from '../lib/i18n'
import type { Queued } from './db'
import { useOnline, useQueue, useSyncing, useSyncMeta } from './hooks'
import { enqueue, remove } from './queue'
import { resolveConflict, retry, syncNow } from './sync'

const show = (value: unknown) => (value === undefined || value === null || value === '' ? '—' : typeof value === 'object' ? JSON.stringify(value) : String(value))

/** What the device holds that the server has not confirmed: always on screen for field work — what is
 *  waiting, what the server refused and why, conflicts to settle (both values, the engineer chooses),
 *  and when the last sync succeeded. `recordId` narrows it to one record. */
export default function SyncPanel({ recordId, fieldLabel, describe }: {
  recordId?: string
  fieldLabel?: (form: string, field: string) => string
  describe?: (entry: Queued) => string
}) {
  const { t } = useTranslation()
  const online = useOnline()
  const syncing = useSyncing()
  const queue = useQueue()
  const status = useSyncMeta()
  const all = (queue.data ?? []).filter((e) => !recordId || e.op.record_id === recordId)
  const pending = all.filter((e) => e.state === 'pending')
  const failed = all.filter((e) => e.state === 'failed')
  const conflicts = all.filter((e) => e.state === 'conflict')
  const queries = useQueryClient()
  // a field by its label in the reader's language: the form's schema, as the device keeps it
  const label = (e: Queued, field: string) => {
    if (fieldLabel) return fieldLabel(e.op.form, field)
    const prop = (queries.getQueryData(['schema', e.op.form]) as any)?.properties?.[field]
    return (prop && (unwrapNullable(prop).title ?? prop.title)) || field
  }
  const what = (e: Queued) => describe?.(e) ?? t(`op.${e.op.type}`, { defaultValue: e.op.type })
  const keepMine = (entry: Queued) => resolveConflict(entry, 'mine', (data, base) =>
    enqueue({ type: 'update', form: entry.op.form, record_id: entry.op.record_id, data, base_version: base }))
    .then(() => { if (isOnline()) syncNow().catch(() => {}) })
  return (
    <section className="panel sync" aria-labelledby="sync-title" data-testid="sync-panel" data-pending={pending.length}
      data-failed={failed.length} data-conflicts={conflicts.length} data-syncing={syncing ? 'yes' : 'no'}>
      <div className="row">
        <h2 id="sync-title">{t('syncTitle')}</h2>
        <span className={online ? 'badge ok' : 'badge off'} role="status">{online ? t('online') : t('offline')}</span>
        <span className="spacer" />
        <button type="button" disabled={!online || syncing} onClick={() => void syncNow().catch(() => {})}>{syncing ? t('syncing') : t('syncNow')}</button>
      </div>
      <p aria-live="polite">
        {pending.length ? t('pendingCount', { count: pending.length }) : t('nothingPending')}
        {' · '}
        {status.data?.last_sync_at ? t('lastSynced', { time: formatDateTime(status.data.last_sync_at) }) : t('neverSynced')}
        {status.data?.last_error && status.data.last_attempt_at && (!status.data.last_sync_at || status.data.last_attempt_at > status.data.last_sync_at)
          ? <> · <span className="muted">{t('lastSyncFailed', { reason: status.data.last_error === 'network' ? t('noNetwork') : status.data.last_error })}</span></> : null}
      </p>
      {pending.length > 0 && (
        <details>
          <summary>{t('waiting')}</summary>
          <ol className="queue">{pending.map((e) => <li key={e.seq}>{what(e)} <time className="muted">{formatDateTime(e.created_at)}</time></li>)}</ol>
        </details>
      )}
      {conflicts.map((e) => (
        <div key={e.seq} role="group" aria-label={t('conflictTitle')} className="conflict alert">
          <strong>{t('conflictTitle')}</strong>
          <p>{t('conflictExplain')}</p>
          <dl>
            {(e.conflicts ?? []).map((c) => (
              <div key={c.field}>
                <dt>{label(e, c.field)}</dt>
                <dd>{t('yours')}: <q data-testid="mine">{show(c.client_value)}</q></dd>
                {'server_value' in c && <dd>{t('theirs')}: <q data-testid="theirs">{show(c.server_value)}</q></dd>}
                {c.reason && <dd className="muted">{c.reason}</dd>}
              </div>
            ))}
          </dl>
          <div className="row">
            <button type="button" onClick={() => void keepMine(e)}>{t('keepMine')}</button>
            <button type="button" onClick={() => void resolveConflict(e, 'theirs', async () => {})}>{t('keepTheirs')}</button>
          </div>
        </div>
      ))}
      {failed.map((e) => (
        <div key={e.seq} role="alert" className="alert">
          <strong>{t('refused', { what: what(e) })}</strong>: {e.error?.message}
          {(e.error?.details ?? []).map((d) => <div key={d.path + d.message}>{d.path}: {d.message}</div>)}
          <div className="row">
            <button type="button" onClick={() => void retry(e).then(() => syncNow().catch(() => {}))}>{t('retry')}</button>
            <button type="button" onClick={() => void remove(e)}>{t('discard')}</button>
          </div>
        </div>
      ))}
    </section>
  )
}
