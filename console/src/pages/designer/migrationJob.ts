// A record migration job (POST /forms/{form}/migrations, or the one a publish with `migrate` starts), as
// the change-impact panels of the form and workflow designers read it: a dry run before publishing, the
// real one after, each followed until it is done.
import { useQuery } from '@tanstack/react-query'
import { get } from '../../lib/api'
import type { ReportImpact } from './reportImpact'

export interface MigrationJob {
  id: string
  status: string
  dry_run: boolean
  counts: Record<string, number>
  by_state: Record<string, Record<string, number>>
  problems: { record: string; number?: string; state?: string; kind: string; details?: { path?: string; message?: string }[] }[]
  reports?: ReportImpact[]
  reads?: { records: number; reports: number }
}

/** The job as it goes on (polled each second until done); `job` is the answer that started it. */
export function useMigrationJob(form: string, job: MigrationJob | undefined) {
  return useQuery({
    queryKey: ['migration', form, job?.id],
    queryFn: () => get<MigrationJob>(`/forms/${encodeURIComponent(form)}/migrations/${job!.id}`),
    enabled: !!job && job.status !== 'done',
    initialData: job,
    refetchInterval: (q) => (q.state.data?.status === 'done' ? false : 1000),
  })
}
