// Names of members (who claimed a wish) by id, fetched once per id and cached.
import { reactive } from 'vue'
import { api, client } from '@/api'

const names = reactive(new Map<number, string>())
const pending = new Set<number>()

export function memberName(id: number | null | undefined): string {
  if (id === null || id === undefined) return '—'
  if (!names.has(id) && !pending.has(id)) {
    pending.add(id)
    api(client.GET('/api/members/{member_id}', { params: { path: { member_id: id } } }))
      .then((m) => names.set(id, m.name ?? `党员 #${id}`))
      .catch(() => names.set(id, `党员 #${id}`))
      .finally(() => pending.delete(id))
  }
  return names.get(id) ?? '…'
}
