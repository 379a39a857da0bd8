import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createPoller } from './polling'

describe('polling', () => {
  beforeEach(() => { vi.useFakeTimers() })
  afterEach(() => { vi.useRealTimers() })

  it('ticks at once and then every interval until stopped', async () => {
    const tick = vi.fn().mockResolvedValue(undefined)
    const poller = createPoller(tick, 1000)
    poller.start()
    await vi.advanceTimersByTimeAsync(0)
    expect(tick).toHaveBeenCalledTimes(1)
    await vi.advanceTimersByTimeAsync(3000)
    expect(tick).toHaveBeenCalledTimes(4)
    poller.stop()
    await vi.advanceTimersByTimeAsync(5000)
    expect(tick).toHaveBeenCalledTimes(4)
  })

  it('keeps polling after a failed tick', async () => {
    const tick = vi.fn().mockRejectedValueOnce(new Error('down')).mockResolvedValue(undefined)
    const poller = createPoller(tick, 1000)
    poller.start()
    await vi.advanceTimersByTimeAsync(1000)
    expect(tick).toHaveBeenCalledTimes(2)
    poller.stop()
  })
})
