export interface FormNav {
  name: string
  title: string
  description: string
  title_field: string | null
  columns: { name: string; label: string; type: string }[]
  filters: { name: string; label: string; type: string; options?: { value: string; label: string }[]; form?: string }[]
  can_create: boolean
  can_update: boolean
  workflow: string | null
  states: { name: string; label: string; type: string; final: boolean }[]
  deadlines: Record<string, string>
  actions: Record<string, string>
  field_service: {
    engineer_field: string
    engineer_role?: string | null
    checkin: {
      states: string[] | null; radius_m: number; location_field: string; visits_field: string
      columns?: { checked_in_at: string; checked_out_at: string; location: string; distance_m: string; flagged: string; reason: string }
      on_action?: string | null; checkout_action?: string | null
    } | null
    parts: {
      lines_field: string; part_form: string; warehouse_form: string; columns: Record<string, string>; van: boolean
      van_lookup?: { form: string; user_field: string; warehouse_field: string } | null
    } | null
  } | null
}

export interface Navigation {
  user: { id: string; name: string; roles: string[]; tenant: string; attributes?: Record<string, string> }
  forms: FormNav[]
  dashboards: { name: string; title?: string }[]
  reports: { name: string }[]
  admin: boolean
  language?: string
}

export interface RecordBody {
  id: string
  form: string
  version: number
  number?: string
  data: Record<string, any>
  workflow?: { state: string; status: string; assignees?: string[]; timers?: { name: string; due_at: string }[]; approval?: Record<string, any> | null } | null
  created_at?: string
  updated_at?: string
}

export interface ActionInfo {
  action: string
  label: string
  next?: string
  requires: string[]
  missing: string[]
  comment_required: boolean
}

/** A workflow's states and transitions (GET /workflows/{name}/diagram): resting states carry their
 *  actions and edit rules, so a device offline can work ahead of the server. */
export interface Diagram {
  workflow: string
  version: number
  start: string
  states: {
    name: string; label: string; type: string
    actions?: { action: string; label: string; next: string; requires: string[]; comment_required: boolean; conditional: boolean }[]
    edits?: { fields: string[]; assignees: boolean; roles: string[] | null; user_fields: string[] | null; comment_required: boolean }[]
  }[]
  edges: { from: string; to: string; label: string; text: string }[]
}
