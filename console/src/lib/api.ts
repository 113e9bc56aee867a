import { config } from './config'
import { session, signOut } from './auth'
import i18n from './i18n'
import { markReachable, markUnreachable } from './network'

export interface Problem {
  path: string
  message: string
}

/** The API's error envelope {error: {code, message, details}} as an exception. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Problem[] = [],
    readonly body: unknown = null,
  ) {
    super(message)
  }
}

export async function api<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
  const token = session()?.token
  let response: Response
  try {
    response = await fetch(config().apiUrl + path, {
    method,
    headers: {
      ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
      'Accept-Language': i18n.language, // definitions' labels come back in it
      ...headers,
    },
    body: body !== undefined ? JSON.stringify(body) : undefined,
    })
  } catch (error) {
    markUnreachable() // no answer at all: offline, or the API cannot be reached
    throw error
  }
  markReachable()
  const text = await response.text()
  const data = text ? safeJson(text) : null
  if (!response.ok) {
    const error = (data as any)?.error ?? {}
    if (response.status === 401) signOut()
    throw new ApiError(response.status, error.code ?? 'http_error', error.message ?? `HTTP ${response.status}`,
      Array.isArray(error.details) ? error.details : [], data)
  }
  return data as T
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

export const get = <T = any>(path: string) => api<T>('GET', path)
export const post = <T = any>(path: string, body: unknown, headers?: Record<string, string>) => api<T>('POST', path, body, headers)
export const patch = <T = any>(path: string, body: unknown) => api<T>('PATCH', path, body)

export function qs(params: Record<string, string | number | undefined | null>): string {
  const parts = Object.entries(params)
    .filter(([, v]) => v !== undefined && v !== null && v !== '')
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
  return parts.length ? `?${parts.join('&')}` : ''
}
