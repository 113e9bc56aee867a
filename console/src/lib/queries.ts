import { useQuery } from '@tanstack/react-query'
import { get } from './api'
import type { Navigation } from './types'

export const useNavigation = () => useQuery({ queryKey: ['navigation'], queryFn: () => get<Navigation>('/navigation'), staleTime: 60_000 })

export const useSchema = (form: string) =>
  useQuery({ queryKey: ['schema', form], queryFn: () => get(`/forms/${encodeURIComponent(form)}/schema`), staleTime: 60_000 })

export const useUnread = () =>
  useQuery({ queryKey: ['notifications', 'count'], queryFn: () => get<{ unread: number }>('/notifications?limit=1'), refetchInterval: 30_000 })

/** The navigation entry of one form (title, columns, filters, states, field service), once loaded. */
export const useFormMeta = (form: string) => {
  const nav = useNavigation()
  return nav.data?.forms.find((f) => f.name === form)
}

/** A workflow state's label in the reader's language (from the navigation), else its name. */
export const stateLabel = (meta: { states?: { name: string; label?: string }[] } | undefined, state: string) =>
  meta?.states?.find((s) => s.name === state)?.label ?? state

/** Whether the user works records in the field: holds the role of a field-service form's engineer
 *  field (from the definitions). Their device keeps a queue and syncs it. */
export const isFieldWorker = (nav: Navigation | undefined) => {
  const roles = nav?.user.roles ?? []
  return (nav?.forms ?? []).some((f) => f.field_service && (!f.field_service.engineer_role || roles.includes(f.field_service.engineer_role)))
}
