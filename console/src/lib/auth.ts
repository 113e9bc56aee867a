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

export function signOut(): void {
  current = null
  sessionStorage.removeItem(KEY)
}
