// Live updates: a new offer or message shows within seconds, without a reload.
// One short poll of the inbox (web/src/live, every 3 s while visible) for the whole H5: a new
// message — an offer, a completed service — refreshes the pages that listen.
import { onBeforeUnmount, onMounted, ref, type Ref } from 'vue'
import { createPoller, type Poller } from '@/live/polling'
import { api } from './api'
import type { Inbox } from './types'

const unread = ref(0)
const listeners = new Set<() => void>()
let poller: Poller | undefined
let lastTop = -1

async function tick() {
  try {
    const inbox = await api.get<Inbox>('/api/inbox?limit=1')
    unread.value = inbox.unread ?? 0
    const top = inbox.messages?.[0]?.id ?? 0
    if (lastTop !== -1 && top !== lastTop) listeners.forEach((fn) => fn())
    lastTop = top
  } catch {
    /* signed out or offline: the next tick tries again */
  }
}

function ensure() {
  if (!poller) {
    poller = createPoller(tick)
    poller.start()
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
