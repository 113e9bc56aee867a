import { useQuery } from '@tanstack/react-query'
import { useEffect, useState } from 'react'
import { get } from '../../lib/api'
import type { Diagram, FormNav, RecordBody } from '../../lib/types'

export type FieldService = NonNullable<FormNav['field_service']>
export interface Point { lat: number; lng: number; accuracy?: number }

/** The published workflow with each state's actions and edit rules (cached for offline work). */
export const useDiagram = (workflow: string | null | undefined) =>
  useQuery({
    queryKey: ['diagram', workflow],
    queryFn: () => get<Diagram>(`/workflows/${encodeURIComponent(workflow!)}/diagram`),
    enabled: !!workflow,
    staleTime: 5 * 60_000,
  })

export function currentPosition(): Promise<Point> {
  return new Promise((resolve, reject) => {
    if (!navigator.geolocation) return reject(new Error('no geolocation in this browser'))
    navigator.geolocation.getCurrentPosition(
      (p) => resolve({ lat: Number(p.coords.latitude.toFixed(6)), lng: Number(p.coords.longitude.toFixed(6)), accuracy: Math.round(p.coords.accuracy) }),
      (e) => reject(new Error(e.message)),
      { enableHighAccuracy: true, timeout: 15_000, maximumAge: 60_000 },
    )
  })
}

/** Where the phone is (asked once; null until known or when refused). */
export function usePosition(): Point | null {
  const [point, setPoint] = useState<Point | null>(null)
  useEffect(() => {
    let live = true
    currentPosition().then((p) => live && setPoint(p), () => {})
    return () => { live = false }
  }, [])
  return point
}

export function siteOf(record: RecordBody, fs: FieldService | null): Point | null {
  const site = fs?.checkin ? record.data[fs.checkin.location_field] : null
  return site && typeof site === 'object' && 'lat' in site && 'lng' in site ? { lat: Number(site.lat), lng: Number(site.lng) } : null
}

/** A link that opens the site in the phone's map app (geo: on Android, Apple Maps elsewhere, which
 *  hands over to the browser's maps on other systems). */
export function mapLink(site: Point, title: string): string {
  if (/Android/i.test(navigator.userAgent)) return `geo:${site.lat},${site.lng}?q=${site.lat},${site.lng}(${encodeURIComponent(title)})`
  return `https://maps.apple.com/?ll=${site.lat},${site.lng}&q=${encodeURIComponent(title)}`
}

export function formatDistance(metres: number, language: string): string {
  const km = metres >= 1000
  return new Intl.NumberFormat(language, { maximumFractionDigits: km ? 1 : 0 }).format(km ? metres / 1000 : metres) + (km ? ' km' : ' m')
}

/** The record's nearest deadline (reminders are the platform's own). */
export function nextDue(record: RecordBody): string | null {
  const due = (record.workflow?.timers ?? []).filter((x) => !/remind/.test(x.name.split(':')[0])).map((x) => x.due_at).sort()
  return due[0] ?? null
}

export const titleOf = (record: RecordBody, meta: FormNav | undefined) =>
  String((meta?.title_field && record.data[meta.title_field]) || record.number || record.id)

/** The engineer's van and what it holds, and the parts catalogue: loaded with the field list, so a
 *  visit started offline can still draw parts with the stock shown. */
export function useVanStock(fs: FieldService | null, user: string) {
  const parts = fs?.parts
  const van = parts?.van_lookup
  const vanRecord = useQuery({
    queryKey: ['van', van?.form, user],
    queryFn: () => get<{ items: RecordBody[] }>(`/forms/${encodeURIComponent(van!.form)}/records?filter.${encodeURIComponent(van!.user_field)}=${encodeURIComponent(user)}&limit=1`),
    enabled: !!van && !!user,
    staleTime: 5 * 60_000,
  })
  const warehouse: string | undefined = van ? vanRecord.data?.items[0]?.data[van.warehouse_field] : undefined
  const stock = useQuery({
    queryKey: ['stock', warehouse],
    queryFn: () => get<{ items: { part: string; on_hand: number }[] }>(`/inventory/stock?warehouse=${encodeURIComponent(warehouse!)}`),
    enabled: !!warehouse,
  })
  const catalogue = useQuery({
    queryKey: ['lookup', parts?.part_form],
    queryFn: () => get<{ items: RecordBody[] }>(`/forms/${encodeURIComponent(parts!.part_form)}/records?limit=100`),
    enabled: !!parts,
    staleTime: 5 * 60_000,
  })
  return { van: !!van, warehouse, stock: stock.data?.items, catalogue: catalogue.data?.items }
}
