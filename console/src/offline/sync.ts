// Sends the queue to `POST /sync` in the order the changes were made and applies the replies one by
// one. Photos and signatures go up first when they reach the head of the queue (declare → POST the
// bytes to the file store → their `attach` operation rides in the next batch), because the server
// checks a file against the record's state at that point — after the operations before it. So a
// visit costs one sync round trip for its operations plus one per run of uploads.
//
// Never lose, never apply twice: an entry leaves the queue only when the server has answered for its
// op_id; a lost reply, a reload or a killed browser sends the same op_ids again and the server
// replays its first answer. One sync at a time per user across tabs (Web Locks).
import { ApiError, post } from '../lib/api'
import type { RecordBody } from '../lib/types'
import type { Queued } from './db'
import { blobOf, changed, meta, queued, remove, saveEntry, saveMeta, scope, storePull } from './queue'

const MAX_BATCH = 100 // the server's limit per request
const RETRY_UPLOAD = new Set(['upload_missing', 'upload_size_mismatch'])

interface SyncResult {
  op_id: string
  status: 'applied' | 'conflict' | 'rejected'
  replayed?: boolean
  http_status?: number
  error?: { code: string; message: string; details?: { path: string; message: string }[] }
  conflicts?: Queued['conflicts']
  result?: { id: string; version: number }
}

interface SyncReply {
  results: SyncResult[]
  changes: { records: RecordBody[]; assigned: string[]; unassigned: string[] }
  cursor: string
}

export interface SyncFigures {
  requests: number
  uploads: number
  applied: number
  conflicts: number
  rejected: number
}

/** This device, for the server: a report saved twice offline is not in conflict with itself. */
function deviceId(): string {
  const key = 'aftersales.device'
  let id = localStorage.getItem(key)
  if (!id) {
    id = `d-${Array.from(crypto.getRandomValues(new Uint8Array(12)), (b: number) => b.toString(16).padStart(2, '0')).join('')}`
    localStorage.setItem(key, id)
  }
  return id
}

let running: Promise<SyncFigures> | null = null
const syncedListeners = new Set<(records: RecordBody[]) => void>()

/** Told after every sync with the records it brought (pages refresh their server copies). */
export function onSynced(fn: (records: RecordBody[]) => void): () => void {
  syncedListeners.add(fn)
  return () => syncedListeners.delete(fn)
}

let again = false
export const isSyncing = () => running !== null

/** Send what is queued and pull what changed. Safe to call at any time, from any tab. */
export function syncNow(): Promise<SyncFigures> {
  if (running) { // what was queued after this run read the queue goes in a run right after it
    again = true
    return running
  }
  const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined
  const work = (): Promise<SyncFigures> => (locks ? locks.request(`aftersales-sync|${scope()}`, () => run()) as unknown as Promise<SyncFigures> : run())
  const started = work().finally(() => {
    running = null
    changed()
    if (again) {
      again = false
      syncNow().catch(() => {})
    }
  })
  running = started
  changed()
  return started
}

async function run(): Promise<SyncFigures> {
  const figures: SyncFigures = { requests: 0, uploads: 0, applied: 0, conflicts: 0, rejected: 0 }
  const started = new Date().toISOString()
  let status = await meta()
  await saveMeta({ ...status, last_attempt_at: started })
  const brought: RecordBody[] = []
  try {
    for (let round = 0; round < 1000; round++) {
      const batch = await nextBatch(figures)
      if (!batch.length && round > 0) break
      status = await meta()
      figures.requests++
      const reply = await post<SyncReply>('/sync', { operations: batch.map((e) => e.op), device_id: deviceId(), ...(status.cursor ? { cursor: status.cursor } : {}) })
      const unsettled = await applyReplies(batch, reply.results, figures)
      await storePull(reply.changes.records, reply.changes.unassigned, reply.cursor)
      brought.push(...reply.changes.records)
      if (!batch.length || unsettled) break // a pull only, or the server asked us to come back later
    }
  } catch (error) {
    const message = error instanceof ApiError ? error.message : 'network'
    await saveMeta({ ...(await meta()), last_error: message })
    throw error
  } finally {
    if (brought.length) syncedListeners.forEach((fn) => fn(brought))
  }
  return figures
}

/** The next operations to send, oldest first, up to an upload that must first go up; uploads at the
 *  head go up now (a network failure throws: the sync stops there, nothing lost). */
async function nextBatch(figures: SyncFigures): Promise<Queued[]> {
  const batch: Queued[] = []
  for (const entry of await queued()) {
    if (entry.state !== 'pending') continue
    if (entry.upload && !entry.upload.posted) {
      if (batch.length) break // what comes before it goes first: the file is checked against that state
      const ok = await putUp(entry)
      figures.uploads++
      if (!ok) continue // refused: shown as failed, the queue goes on
    }
    batch.push(entry)
    if (batch.length === MAX_BATCH) break
  }
  return batch
}

/** Declare the upload and POST its bytes to the file store; false if the server refused it (the
 *  entry is marked failed with the reason). A network failure throws: the sync stops, nothing lost. */
async function putUp(entry: Queued): Promise<boolean> {
  const upload = entry.upload!
  const blob = await blobOf(entry)
  if (!blob) {
    await saveEntry({ ...entry, state: 'failed', error: { code: 'file_lost', message: 'the file is no longer on this device' } })
    return false
  }
  const base = `/forms/${encodeURIComponent(entry.op.form)}/records/${encodeURIComponent(entry.op.record_id ?? '')}`
  let declared: { upload_id: string; url: string; fields: Record<string, string> }
  try {
    declared = await post(`${base}/uploads`, { field: upload.field, content_type: blob.type, size: blob.size, name: upload.name.slice(0, 255) })
  } catch (error) {
    if (!(error instanceof ApiError) || error.status >= 500) throw error
    await saveEntry({ ...entry, state: 'failed', attempts: entry.attempts + 1, error: { code: error.code, message: error.message, details: error.details } })
    return false
  }
  const form = new FormData()
  for (const [k, v] of Object.entries(declared.fields)) form.append(k, v)
  form.append('file', blob, upload.name)
  // a form POST is a simple request (no CORS rule needed on the store); the confirm checks the object
  await fetch(declared.url, { method: 'POST', body: form, mode: 'no-cors' })
  const next: Queued = { ...entry, op: { ...entry.op, upload_id: declared.upload_id }, upload: { ...upload, upload_id: declared.upload_id, posted: true } }
  await saveEntry(next)
  Object.assign(entry, next)
  return true
}

/** Apply each answer; returns how many entries stay pending for a later sync (not answered, or the
 *  server's own trouble). */
async function applyReplies(batch: Queued[], results: SyncResult[], figures: SyncFigures): Promise<number> {
  const byId = new Map(results.map((r) => [r.op_id, r]))
  let unsettled = 0
  for (const entry of batch) {
    const result = byId.get(entry.op.op_id)
    if (!result) { unsettled++; continue } // not answered: sent again next time (same op_id)
    if (result.status === 'applied') {
      figures.applied++
      await remove(entry)
    } else if (result.status === 'conflict') {
      figures.conflicts++
      await saveEntry({ ...entry, state: 'conflict', conflicts: result.conflicts ?? [], server_version: result.result?.version })
    } else {
      const error = result.error ?? { code: 'rejected', message: 'refused' }
      if ((result.http_status ?? 400) >= 500) {
        unsettled++
        await saveEntry({ ...entry, attempts: entry.attempts + 1, error }) // the server's trouble: try again later
      } else if (entry.upload && RETRY_UPLOAD.has(error.code) && entry.attempts < 2) {
        // the bytes did not arrive (an expired presigned POST, a lost request): put them up again
        await saveEntry({ ...entry, attempts: entry.attempts + 1, upload: { ...entry.upload, upload_id: undefined, posted: false } })
      } else {
        figures.rejected++
        await saveEntry({ ...entry, state: 'failed', attempts: entry.attempts + 1, error })
      }
    }
  }
  return unsettled
}

/** Send a refused change again (e.g. after the reason was fixed elsewhere). */
export async function retry(entry: Queued): Promise<void> {
  await saveEntry({ ...entry, state: 'pending', error: undefined })
}

/** The engineer's choice on a conflict: keep their value (sent again over the server's current
 *  version, under a new op_id) or the server's (the entry is dropped). */
export async function resolveConflict(entry: Queued, keep: 'mine' | 'theirs', enqueueUpdate: (data: Record<string, unknown>, base: number) => Promise<unknown>): Promise<void> {
  if (keep === 'mine' && entry.conflicts?.length) {
    const data = Object.fromEntries(entry.conflicts.filter((c) => !c.reason).map((c) => [c.field, c.client_value]))
    if (Object.keys(data).length) await enqueueUpdate(data, entry.server_version ?? entry.op.base_version ?? 1)
  }
  await remove(entry)
}
