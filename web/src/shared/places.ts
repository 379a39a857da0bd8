// Names of communities, grids and other places by id, fetched once per id and cached.
import { reactive } from 'vue'
import { api, client } from '@/api'

const names = reactive(new Map<number, string>())
const pending = new Set<number>()

export function placeName(id: number | null | undefined): string {
  if (id === null || id === undefined) return '—'
  if (!names.has(id) && !pending.has(id)) {
    pending.add(id)
    api(client.GET('/api/places/{place_id}', { params: { path: { place_id: id } } }))
      .then((place) => names.set(id, place.name ?? String(id)))
      .catch(() => names.set(id, `编号 ${id}`))
      .finally(() => pending.delete(id))
  }
  return names.get(id) ?? '…'
}
