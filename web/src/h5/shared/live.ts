// Live updates: a new offer or message shows within seconds, without a reload.
// TODO(scaffold): use the shared live-update mechanism of web/src once it lands.
import { onBeforeUnmount, onMounted, ref, type Ref } from 'vue'
import { api } from './api'
import type { Inbox } from './types'

const POLL_MS = 2500
const unread = ref(0)
const listeners = new Set<() => void>()
let timer: number | undefined
let lastTop = -1

async function tick() {
  if (document.hidden) return
  try {
    const inbox = await api.get<Inbox>('/api/inbox')
    unread.value = inbox.unread ?? 0
    const top = inbox.messages?.[0]?.id ?? 0
    if (lastTop !== -1 && top !== lastTop) listeners.forEach((fn) => fn())
    lastTop = top
  } catch {
    /* signed out or offline: the next tick tries again */
  }
}

function ensure() {
  if (timer === undefined) {
    tick()
    timer = window.setInterval(tick, POLL_MS)
  }
}

export function useUnread(): Ref<number> {
  ensure()
  return unread
}

/** Call ``refresh`` when something new arrives for the signed-in person (a message, an offer). */
export function useLive(refresh: () => void) {
  onMounted(() => {
    ensure()
    listeners.add(refresh)
  })
  onBeforeUnmount(() => listeners.delete(refresh))
}
