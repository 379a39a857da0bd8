// People read Beijing time whatever the phone's zone; the wire carries offsets.
const BEIJING = 'Asia/Shanghai'

const dateTime = new Intl.DateTimeFormat('zh-CN', {
  timeZone: BEIJING, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit',
  hour12: false,
})
const shortTime = new Intl.DateTimeFormat('zh-CN', {
  timeZone: BEIJING, month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit', hour12: false,
})

// the server keeps UTC; a time that came without its offset is UTC, not the phone's zone
function parse(value: string): Date {
  return new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(value) || value.length <= 10 ? value : value + 'Z')
}

export function beijing(value?: string | null): string {
  if (!value) return ''
  const d = parse(value)
  return Number.isNaN(d.getTime()) ? '' : dateTime.format(d).replace(/\//g, '-')
}

export function beijingShort(value?: string | null): string {
  if (!value) return ''
  const d = parse(value)
  return Number.isNaN(d.getTime()) ? '' : shortTime.format(d)
}

/** A local "YYYY-MM-DDTHH:MM" typed in Beijing time, as ISO 8601 with its offset. */
export function fromBeijingInput(local: string): string {
  return local ? `${local.length === 16 ? local + ':00' : local}+08:00` : ''
}
