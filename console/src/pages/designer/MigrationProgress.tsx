// A migration job's progress as the designers show it after publishing with records moved.
import { useTranslation } from 'react-i18next'
import type { MigrationJob } from './migrationJob'

export default function MigrationProgress({ job, className }: { job: MigrationJob; className: string }) {
  const { t } = useTranslation()
  const { moved, seen, needs_state: state = 0, needs_values: values = 0 } = job.counts
  const done = job.status === 'done'
  return (
    <div role="status" aria-live="polite" className={className}>
      <progress max={Math.max(1, seen)} value={done ? seen : moved} aria-label={t('flowDesigner.migration')} />
      {' '}{done ? t('flowDesigner.migrationDone', { moved, seen, left: state + values }) : t('flowDesigner.migrationRunning', { moved, seen })}
    </div>
  )
}
