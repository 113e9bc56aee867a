import { ApiError } from './api'
import { session, signOut } from './auth'
import { config } from './config'

/**
 * GET a file from the API with the bearer token in the Authorization header — never in a URL, so it
 * is in no history, log or Referer — and hand it to the browser as a download through a Blob URL.
 */
export async function downloadFile(path: string, filename: string): Promise<void> {
  const token = session()?.token
  const response = await fetch(config().apiUrl + path, { headers: token ? { Authorization: `Bearer ${token}` } : {} })
  if (!response.ok) {
    if (response.status === 401) signOut()
    let code = 'http_error'
    let message = `HTTP ${response.status}`
    try {
      const error = ((await response.json()) as { error?: { code?: string; message?: string } })?.error
      code = error?.code ?? code
      message = error?.message ?? message
    } catch {
      // not JSON: keep the status
    }
    throw new ApiError(response.status, code, message)
  }
  const url = URL.createObjectURL(await response.blob())
  const link = document.createElement('a')
  link.href = url
  link.download = filename
  link.rel = 'noopener'
  document.body.appendChild(link)
  try {
    link.click()
  } finally {
    link.remove()
    setTimeout(() => URL.revokeObjectURL(url), 30_000) // after the browser has taken the file
  }
}
