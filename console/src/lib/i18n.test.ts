import { afterEach, describe, expect, it, vi } from 'vitest'
import i18n, { chooseLanguage, formatDateTime } from './i18n'
import { stateLabel } from './queries'

vi.mock('./config', () => ({ config: () => ({ apiUrl: 'https://api.example', auth: 'local' }) }))

describe('the console in the reader\'s language', () => {
  afterEach(() => chooseLanguage('en'))

  it('writes timestamps as the chosen language does', () => {
    chooseLanguage('zh-CN')
    expect(formatDateTime('2026-12-03T03:29:05Z')).toMatch(/2026年12月3日/)
    chooseLanguage('en')
    expect(formatDateTime('2026-12-03T03:29:05Z')).toMatch(/Dec 2026|Dec 3, 2026/)
    expect(formatDateTime('not a time')).toBe('not a time')
    expect(formatDateTime(undefined)).toBe('')
  })

  it('writes a timestamp in a named zone when given one, the browser\'s own for a zone it does not know', () => {
    chooseLanguage('en')
    expect(formatDateTime('2026-12-31T16:30:00Z', 'Asia/Shanghai')).toMatch(/Jan 1, 2027.*12:30/)
    expect(formatDateTime('2026-12-31T16:30:00Z', 'UTC')).toMatch(/Dec 31, 2026.*4:30/)
    expect(formatDateTime('2026-12-31T16:30:00Z', 'Not/A_Zone')).toBe(formatDateTime('2026-12-31T16:30:00Z'))
  })

  it('names a state by its label, else by its name', () => {
    const meta = { states: [{ name: 'OnSite', label: '现场服务' }, { name: 'Closed' }] }
    expect(stateLabel(meta, 'OnSite')).toBe('现场服务')
    expect(stateLabel(meta, 'Closed')).toBe('Closed')
    expect(stateLabel(undefined, 'Review')).toBe('Review')
  })

  it('asks the API for definitions in the chosen language', async () => {
    const fetched = vi.fn(async () => new Response('{}', { status: 200 }))
    vi.stubGlobal('fetch', fetched)
    const { get } = await import('./api')
    chooseLanguage('zh-CN')
    await get('/navigation')
    chooseLanguage('en')
    await get('/navigation')
    const sent = fetched.mock.calls.map((c) => ((c as unknown as [string, RequestInit])[1].headers as Record<string, string>)['Accept-Language'])
    expect(sent).toEqual(['zh-CN', 'en'])
    expect(i18n.language).toBe('en')
    vi.unstubAllGlobals()
  })
})
