// Where the API is and how people log in: /config.json, written by whoever serves the console
// (the local stack's devstack; a deployed stage's stack writes it next to the assets at deploy).
export interface ConsoleConfig {
  apiUrl: string
  auth: 'local' | 'cognito'
  cognito?: { authority: string; clientId: string }
  /** the local stack only: the page listing the mail the platform sent (surveys, notifications) */
  mail?: string
}

let loaded: ConsoleConfig | null = null

export async function loadConfig(): Promise<ConsoleConfig> {
  if (loaded) return loaded
  const response = await fetch('/config.json', { cache: 'no-store' })
  if (!response.ok) throw new Error(`config.json: HTTP ${response.status}`)
  loaded = (await response.json()) as ConsoleConfig
  loaded.apiUrl = loaded.apiUrl.replace(/\/$/, '')
  return loaded
}

export function config(): ConsoleConfig {
  if (!loaded) throw new Error('config not loaded')
  return loaded
}
