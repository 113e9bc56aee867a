// Whether the API can be reached: the browser's own flag (navigator.onLine says only that some network
// is up, not that the API answers — a basement's captive Wi-Fi, a dropped mobile link) combined with
// what the last API call found. Any answer from the API means reachable; a request that failed to
// connect means not, until the browser reports a network again or a probe of /health answers.
const listeners = new Set<() => void>()
let reachable = true

function set(next: boolean) {
  if (next === reachable) return
  reachable = next
  listeners.forEach((fn) => fn())
}

export const markReachable = () => set(true)
export const markUnreachable = () => set(false)

export function isOnline(): boolean {
  return (typeof navigator === 'undefined' || navigator.onLine) && reachable
}

export function subscribeNetwork(fn: () => void): () => void {
  listeners.add(fn)
  const browser = () => { if (navigator.onLine) set(true); fn() }
  window.addEventListener('online', browser)
  window.addEventListener('offline', fn)
  return () => {
    listeners.delete(fn)
    window.removeEventListener('online', browser)
    window.removeEventListener('offline', fn)
  }
}
