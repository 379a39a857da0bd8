// The API's one error format: {"error": {"code", "message", "fields"}} — message and fields are
// Chinese at the source; the UI shows `message` in a toast and `fields` beside each input.

export type FieldErrors = Record<string, string>

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields: FieldErrors = {},
  ) {
    super(message)
    this.name = 'ApiError'
  }

  static from(status: number, body: unknown): ApiError {
    const error = (body as { error?: { code?: string; message?: string; fields?: unknown } } | undefined)?.error
    if (!error) return new ApiError(status, 'HTTP_' + status, status >= 500 ? '服务暂时不可用，请稍后重试' : '操作未能完成，请重试')
    return new ApiError(status, error.code || 'HTTP_' + status, error.message || '操作未能完成', flattenFields(error.fields))
  }
}

/** `{"fields": {"name": ["不能为空"], "fields": {"topic": ["…"]}}}` → `{"name": "不能为空", "fields.topic": "…"}` */
export function flattenFields(fields: unknown, prefix = ''): FieldErrors {
  const out: FieldErrors = {}
  if (!fields || typeof fields !== 'object') return out
  for (const [key, value] of Object.entries(fields as Record<string, unknown>)) {
    const name = prefix ? `${prefix}.${key}` : key
    if (typeof value === 'string') out[name] = value
    else if (Array.isArray(value) && value.every((v) => typeof v === 'string')) out[name] = value.join('；')
    else Object.assign(out, flattenFields(value, name))
  }
  return out
}
