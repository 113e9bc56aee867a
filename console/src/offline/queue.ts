// The queue of changes this device made, in the order they were made. Each gets its client
// operation id when it is queued, so however often a batch is sent again (a reload mid-sync, a
// lost reply, two tabs), the server applies it once. Nothing leaves the queue before the server
// has answered for it.
import { config } from '../lib/config'
import { session } from '../lib/auth'
import type { RecordBody } from '../lib/types'
import { blobKey, db, recordKey, type PendingUpload, type Queued, type SyncMeta, type SyncOp } from './db'

/** Whose queue: the API this console talks to and the signed-in user. */
export function scope(): string {
  return `${config().apiUrl}|${session()?.user ?? ''}`
}

const listeners = new Set<() => void>()
const channel = typeof BroadcastChannel !== 'undefined' ? new BroadcastChannel('aftersales-offline') : null
channel?.addEventListener('message', () => listeners.forEach((fn) => fn()))

/** Called whenever the queue, the cached records or the sync status change (in any tab). */
export function subscribe(fn: () => void): () => void {
  listeners.add(fn)
  return () => listeners.delete(fn)
}

export function changed(): void {
  listeners.forEach((fn) => fn())
  channel?.postMessage('changed')
}

export function newId(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID()
  const bytes = crypto.getRandomValues(new Uint8Array(16)) // randomUUID needs a secure context
  return Array.from(bytes, (b: number) => b.toString(16).padStart(2, '0')).join('')
}

export type NewOp = Omit<SyncOp, 'op_id' | 'device_time'>

/** Queue one change (and the bytes of its file, in the same IndexedDB transaction). */
export async function enqueue(op: NewOp, file?: { blob: Blob; upload: Omit<PendingUpload, 'size' | 'content_type'> }): Promise<Queued> {
  const now = new Date().toISOString()
  const entry: Queued = {
    scope: scope(),
    op: { ...op, op_id: newId(), device_time: now },
    state: 'pending',
    created_at: now,
    attempts: 0,
    ...(file ? { upload: { ...file.upload, content_type: file.blob.type, size: file.blob.size } } : {}),
  }
  const database = await db()
  const tx = database.transaction(['ops', 'blobs'], 'readwrite')
  if (file) await tx.objectStore('blobs').put({ key: blobKey(entry.op), blob: file.blob })
  entry.seq = await tx.objectStore('ops').add(entry)
  await tx.done
  changed()
  return entry
}

/** This user's queue, oldest first. */
export async function queued(): Promise<Queued[]> {
  const all = await (await db()).getAllFromIndex('ops', 'scope', scope())
  return all.sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0))
}

export async function saveEntry(entry: Queued): Promise<void> {
  await (await db()).put('ops', entry)
  changed()
}

/** Drop an entry (answered, or discarded by the user) and the bytes it carried. */
export async function remove(entry: Queued): Promise<void> {
  const database = await db()
  const tx = database.transaction(['ops', 'blobs'], 'readwrite')
  await tx.objectStore('ops').delete(entry.seq!)
  await tx.objectStore('blobs').delete(blobKey(entry.op))
  await tx.done
  changed()
}

export async function blobOf(entry: Queued): Promise<Blob | undefined> {
  return (await (await db()).get('blobs', blobKey(entry.op)))?.blob
}

export async function meta(): Promise<SyncMeta> {
  return (await (await db()).get('meta', scope())) ?? { scope: scope() }
}

export async function saveMeta(next: SyncMeta): Promise<void> {
  await (await db()).put('meta', next)
  changed()
}

/** The records of this user's open work, as the last sync brought them. */
export async function cachedRecords(): Promise<RecordBody[]> {
  return (await (await db()).getAllFromIndex('records', 'scope', scope())).map((r) => r.record)
}

export async function cachedRecord(id: string): Promise<RecordBody | undefined> {
  return (await (await db()).get('records', recordKey(scope(), id)))?.record
}

/** Apply a pull: records changed since the cursor are replaced; those no longer the user's dropped. */
export async function storePull(records: RecordBody[], unassigned: string[], cursor: string): Promise<void> {
  const s = scope()
  const database = await db()
  const tx = database.transaction(['records', 'meta'], 'readwrite')
  const now = new Date().toISOString()
  for (const record of records) await tx.objectStore('records').put({ key: recordKey(s, record.id), scope: s, record, synced_at: now })
  for (const id of unassigned) await tx.objectStore('records').delete(recordKey(s, id))
  const previous = (await tx.objectStore('meta').get(s)) ?? { scope: s }
  await tx.objectStore('meta').put({ ...previous, cursor, last_sync_at: now, last_error: undefined })
  await tx.done
  changed()
}

/** Keep a record the user opened (e.g. after an online action) as the newest copy the device has. */
export async function storeRecord(record: RecordBody): Promise<void> {
  const s = scope()
  await (await db()).put('records', { key: recordKey(s, record.id), scope: s, record, synced_at: new Date().toISOString() })
  changed()
}
