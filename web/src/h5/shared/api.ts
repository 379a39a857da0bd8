// The H5's calls to the gateway. TODO(scaffold): delegate to the shared client of web/src/api.
import type { ApiErrorBody } from './errors'

export class ApiError extends Error {
  status: number
  code: string
  fields: Record<string, unknown>
  constructor(status: number, body: ApiErrorBody) {
    super(body.message)
    this.status = status
    this.code = body.code
    this.fields = body.fields ?? {}
  }
}

let devToken = '' // TEMP until the scaffold's cookie auth lands

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = body === undefined ? {} : { 'Content-Type': 'application/json' }
  if (devToken) headers.Authorization = `Bearer ${devToken}`
  const resp = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await resp.text()
  const data = text ? JSON.parse(text) : null
  if (!resp.ok) {
    throw new ApiError(resp.status, data?.error ?? { code: 'HTTP_' + resp.status, message: '网络异常，请稍后再试' })
  }
  if (data && typeof data === 'object' && 'token' in data) devToken = (data as { token: string }).token
  return data as T
}

export const api = {
  get: <T>(path: string) => call<T>('GET', path),
  post: <T>(path: string, body: unknown = {}) => call<T>('POST', path, body),
  patch: <T>(path: string, body: unknown) => call<T>('PATCH', path, body),
  del: <T>(path: string) => call<T>('DELETE', path),
}

export function errorText(err: unknown): string {
  if (err instanceof ApiError) return err.message
  return '网络异常，请检查网络后重试'
}
