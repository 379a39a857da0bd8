// The message for one field: the API's errors arrive flattened by ApiError
// ({"fields.floor": "…"}); the pages' own checks use the same shape or nested lists.
export function fieldMessage(fields: Record<string, unknown> | undefined, ...path: string[]): string {
  if (!fields) return ''
  const flat = fields[path.join('.')]
  if (typeof flat === 'string') return flat
  let node: unknown = fields
  for (const key of path) {
    if (node && typeof node === 'object' && key in (node as Record<string, unknown>)) {
      node = (node as Record<string, unknown>)[key]
    } else {
      return ''
    }
  }
  if (Array.isArray(node)) return node.filter((x) => typeof x === 'string').join('；')
  return typeof node === 'string' ? node : ''
}
