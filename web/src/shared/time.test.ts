import { describe, expect, it } from 'vitest'
import { beijingIso, formatDate, formatDateTime } from './time'

describe('Beijing time', () => {
  it('shows an aware UTC instant in Beijing time whatever the browser zone', () => {
    expect(formatDateTime('2026-03-05T02:30:00+00:00')).toBe('2026-03-05 10:30')
    expect(formatDateTime('2026-03-05T23:10:00+08:00')).toBe('2026-03-05 23:10')
    expect(formatDate('2026-03-31T16:30:00Z')).toBe('2026-04-01')
  })
  it('shows a dash for nothing', () => {
    expect(formatDateTime(null)).toBe('—')
    expect(formatDateTime('not a date')).toBe('—')
  })
  it('turns a picked Beijing wall-clock time into ISO 8601 with its offset', () => {
    expect(beijingIso('2026-03-05 10:30')).toBe('2026-03-05T10:30:00+08:00')
  })
})
