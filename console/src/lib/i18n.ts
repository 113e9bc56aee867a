import i18n from 'i18next'
import { initReactI18next } from 'react-i18next'
import enWords from '../locales/en.json'
import zhWords from '../locales/zh-CN.json'

// The console's own words. Labels of forms, fields, options and actions come from the tenant's
// definitions and are shown as the definitions give them.
const en = enWords

type Words = typeof en

// a key missing in Chinese fails the type check
const zh: Words = zhWords

export const LANGUAGES = [
  { code: 'zh-CN', label: '中文' },
  { code: 'en', label: 'English' },
]

const LANGUAGE_KEY = 'aftersales.language'

/** zh-CN for a Chinese browser, English otherwise; a choice made in the console wins. */
export function initialLanguage(): string {
  const chosen = localStorage.getItem(LANGUAGE_KEY)
  if (chosen && LANGUAGES.some((l) => l.code === chosen)) return chosen
  const browser = navigator.languages?.[0] ?? navigator.language ?? 'en'
  return browser.toLowerCase().startsWith('zh') ? 'zh-CN' : 'en'
}

/** A timestamp as people of the console's language write it (2026年12月3日 11:29 / 3 Dec 2026, 11:29). */
export function formatDateTime(iso: string | null | undefined, timeZone?: string): string {
  if (!iso) return ''
  const date = new Date(iso)
  if (Number.isNaN(date.getTime())) return iso
  try { // in a named zone (e.g. a schedule's) when given one the browser knows, else the browser's own
    return date.toLocaleString(i18n.language, { dateStyle: 'medium', timeStyle: 'short', ...(timeZone ? { timeZone } : {}) })
  } catch {
    return date.toLocaleString(i18n.language, { dateStyle: 'medium', timeStyle: 'short' })
  }
}

export function chooseLanguage(code: string): void {
  localStorage.setItem(LANGUAGE_KEY, code)
  void i18n.changeLanguage(code)
  document.documentElement.lang = code
}

void i18n.use(initReactI18next).init({
  resources: { en: { translation: en }, 'zh-CN': { translation: zh } },
  lng: initialLanguage(),
  fallbackLng: 'en',
  interpolation: { escapeValue: false }, // React escapes
})
document.documentElement.lang = i18n.language

export default i18n
