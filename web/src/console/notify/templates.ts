// The message templates (kinds, labels, fields), loaded once for the notification screens.
import { reactive } from 'vue'
import { api, client, type Schema } from '@/api'

const state = reactive({ items: [] as Schema<'NotifyTemplate'>[], loaded: false, loading: false })

export function useTemplates() {
  if (!state.loaded && !state.loading) {
    state.loading = true
    api(client.GET('/api/notification-templates'))
      .then((items) => { state.items = items; state.loaded = true })
      .catch(() => { /* the screens still work with the raw kinds */ })
      .finally(() => { state.loading = false })
  }
  return {
    get items() { return state.items },
    labelOf(kind: string | undefined): string {
      return state.items.find((t) => t.kind === kind)?.label ?? kind ?? '—'
    },
  }
}
