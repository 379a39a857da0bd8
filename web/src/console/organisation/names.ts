// Members' names by id, for lists that carry only ids (a team's leader, a pairing's member).
import { reactive } from 'vue'
import { api, client } from '@/api'

const known = reactive<Record<number, string>>({})

export function useNames() {
  async function fetch(ids: (number | null | undefined)[]) {
    const missing = [...new Set(ids.filter((id): id is number => typeof id === 'number' && !(id in known)))]
    await Promise.all(missing.map(async (id) => {
      try {
        known[id] = (await api(client.GET('/api/members/{member_id}', { params: { path: { member_id: id } } }))).name ?? `党员 ${id}`
      } catch {
        known[id] = `党员 ${id}`
      }
    }))
  }
  const name = (id: number | null | undefined) => (typeof id === 'number' ? known[id] ?? '…' : '未指定')
  return { fetch, name }
}
