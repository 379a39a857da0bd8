// Live updates by short polling: every POLL_MS while the tab is visible (and at once when it
// becomes visible again). Chosen over SSE because the gateway is nameko's eventlet @http, which
// would hold a green thread per open stream and need an event subscription per gateway
// instance (#14 scales gateways); a 3 s poll of cheap counters meets "within 5 s", survives any
// proxy and reconnect, and costs one small GET per open tab.
import { onBeforeUnmount, onMounted } from 'vue'

export const POLL_MS = 3000

export interface Poller {
  start(): void
  stop(): void
  /** Run now (e.g. right after the user changed something), then keep the rhythm. */
  now(): Promise<void>
}

export function createPoller(tick: () => Promise<unknown> | unknown, intervalMs = POLL_MS): Poller {
  let timer: ReturnType<typeof setTimeout> | undefined
  let running = false
  let inFlight = false

  const schedule = () => {
    clearTimeout(timer)
    if (running) timer = setTimeout(run, intervalMs)
  }
  const run = async () => {
    if (!running || inFlight) return
    if (typeof document !== 'undefined' && document.visibilityState === 'hidden') return schedule()
    inFlight = true
    try {
      await tick()
    } catch {
      // a failed poll is retried on the next tick; the page keeps what it showed
    } finally {
      inFlight = false
      schedule()
    }
  }
  const onVisible = () => {
    if (document.visibilityState === 'visible') void run()
  }
  return {
    start() {
      if (running) return
      running = true
      if (typeof document !== 'undefined') document.addEventListener('visibilitychange', onVisible)
      void run()
    },
    stop() {
      running = false
      clearTimeout(timer)
      if (typeof document !== 'undefined') document.removeEventListener('visibilitychange', onVisible)
    },
    now: run,
  }
}

/** In a component: poll while it is mounted. */
export function usePolling(tick: () => Promise<unknown> | unknown, intervalMs = POLL_MS): Poller {
  const poller = createPoller(tick, intervalMs)
  onMounted(() => poller.start())
  onBeforeUnmount(() => poller.stop())
  return poller
}
