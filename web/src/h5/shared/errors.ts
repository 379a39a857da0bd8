// The API's one error format: {error: {code, message, fields}}; fields may nest (fields.fields.floor).
export interface ApiErrorBody {
  code: string
  message: string
  fields?: Record<string, unknown>
}

export function fieldMessage(fields: Record<string, unknown> | undefined, ...path: string[]): string {
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
