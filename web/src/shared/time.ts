// People see Beijing time whatever the browser's zone; the API sends ISO 8601 with an offset.
const ZONE = 'Asia/Shanghai'

const dateTime = new Intl.DateTimeFormat('zh-CN', {
  timeZone: ZONE, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false,
})
const dateOnly = new Intl.DateTimeFormat('zh-CN', { timeZone: ZONE, year: 'numeric', month: '2-digit', day: '2-digit' })

function parts(format: Intl.DateTimeFormat, value: Date): Record<string, string> {
  return Object.fromEntries(format.formatToParts(value).map((p) => [p.type, p.value]))
}

function toDate(value: string | number | Date | null | undefined): Date | null {
  if (value === null || value === undefined || value === '') return null
  const date = value instanceof Date ? value : new Date(value)
  return Number.isNaN(date.getTime()) ? null : date
}

/** `2026-03-05T02:30:00+00:00` → `2026-03-05 10:30` (Beijing). */
export function formatDateTime(value: string | number | Date | null | undefined): string {
  const date = toDate(value)
  if (!date) return '—'
  const p = parts(dateTime, date)
  return `${p.year}-${p.month}-${p.day} ${p.hour === '24' ? '00' : p.hour}:${p.minute}`
}

export function formatDate(value: string | number | Date | null | undefined): string {
  const date = toDate(value)
  if (!date) return '—'
  const p = parts(dateOnly, date)
  return `${p.year}-${p.month}-${p.day}`
}

/** A Beijing wall-clock time from a picker (`2026-03-05 10:30`) as ISO 8601 with +08:00. */
export function beijingIso(local: string): string {
  const [date, time = '00:00'] = local.trim().split(/[ T]/)
  return `${date}T${time.length === 5 ? time + ':00' : time}+08:00`
}
