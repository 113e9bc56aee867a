// The bearer token lives in memory and in sessionStorage: it survives a reload of this tab but is
// never in a URL, never in localStorage (shared by every tab and kept after the browser closes),
// and no script from another origin can read it. Record data is never rendered as HTML (no
// dangerouslySetInnerHTML) and the console's CSP allows no inline or foreign script, which is what
// keeps an injected script from reaching sessionStorage.
const KEY = 'aftersales.session'

export interface Session {
  token: string
  user: string
  name?: string
}

let current: Session | null = null

export function session(): Session | null {
  if (current) return current
  const raw = sessionStorage.getItem(KEY)
  if (!raw) return null
  try {
    current = JSON.parse(raw) as Session
  } catch {
    sessionStorage.removeItem(KEY)
  }
  return current
}

export function signIn(next: Session): void {
  current = next
  sessionStorage.setItem(KEY, JSON.stringify(next))
}

const signedOut: ((was: Session) => void)[] = []

/** Called with the session that ended whenever signOut() ends one (e.g. to drop that user's cached data). */
export function onSignOut(listener: (was: Session) => void): () => void {
  signedOut.push(listener)
  return () => {
    const at = signedOut.indexOf(listener)
    if (at >= 0) signedOut.splice(at, 1)
  }
}

export function signOut(): void {
  const was = session()
  current = null
  sessionStorage.removeItem(KEY)
  if (was) for (const listener of [...signedOut]) listener(was)
}
