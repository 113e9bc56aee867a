// The device's own store (IndexedDB through `idb`): the queue of changes not yet confirmed by the
// server, the bytes of photos and signatures waiting to go up, the records of the user's open work
// as the last sync brought them, and the sync cursor. Everything is keyed by a scope — the API and
// the signed-in user — so another person signing in on the same phone never sends, or sees, the
// first one's work. Written before the screen says "queued": closing the tab or killing the
// browser loses nothing.
import { openDB, type DBSchema, type IDBPDatabase } from 'idb'
import type { RecordBody } from '../lib/types'

export type OpType = 'create' | 'update' | 'action' | 'checkin' | 'checkout' | 'parts' | 'return_part' | 'attach'

/** One operation of `POST /sync`, as the server takes it. */
export interface SyncOp {
  op_id: string
  type: OpType
  form: string
  record_id?: string
  base_version?: number
  data?: Record<string, unknown>
  action?: string
  comment?: string
  location?: { lat: number; lng: number; accuracy?: number }
  reason?: string
  at?: string
  device_time?: string
  part?: string
  quantity?: number
  warehouse?: string
  line_id?: string
  upload_id?: string
}

export interface FieldConflict {
  field: string
  client_value: unknown
  server_value?: unknown
  reason?: string
}

export interface PendingUpload {
  field: string
  name: string
  content_type: string
  size: number
  width?: number
  height?: number
  multiple?: boolean // the field holds a list of files
  upload_id?: string // declared (presigned POST obtained)
  posted?: boolean // the bytes went to the file store
}

export interface Queued {
  seq?: number
  scope: string
  op: SyncOp
  /** pending: waits to be sent; failed: the server refused it (error says why); conflict: the
   *  server kept someone else's value of a field (conflicts hold both) — a person chooses. */
  state: 'pending' | 'failed' | 'conflict'
  created_at: string
  attempts: number
  error?: { code: string; message: string; details?: { path: string; message: string }[] }
  conflicts?: FieldConflict[]
  /** the server's version of the record when the conflict was found: a "keep mine" builds on it */
  server_version?: number
  upload?: PendingUpload
}

export interface SyncMeta {
  scope: string
  cursor?: string
  last_sync_at?: string
  last_attempt_at?: string
  last_error?: string
}

interface OfflineDB extends DBSchema {
  ops: { key: number; value: Queued; indexes: { scope: string } }
  blobs: { key: string; value: { key: string; blob: Blob } }
  records: { key: string; value: { key: string; scope: string; record: RecordBody; synced_at: string }; indexes: { scope: string } }
  meta: { key: string; value: SyncMeta }
}

let opened: Promise<IDBPDatabase<OfflineDB>> | null = null

export function db(): Promise<IDBPDatabase<OfflineDB>> {
  opened ??= openDB<OfflineDB>('aftersales-offline', 1, {
    upgrade(database) {
      database.createObjectStore('ops', { keyPath: 'seq', autoIncrement: true }).createIndex('scope', 'scope')
      database.createObjectStore('blobs', { keyPath: 'key' })
      database.createObjectStore('records', { keyPath: 'key' }).createIndex('scope', 'scope')
      database.createObjectStore('meta', { keyPath: 'scope' })
    },
  })
  return opened
}

export const blobKey = (op: SyncOp) => `${op.op_id}`
export const recordKey = (scope: string, id: string) => `${scope}|${id}`
