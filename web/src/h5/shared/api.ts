// The H5's calls, through the one API client of web/src/api (session cookie, CSRF header, the
// API's Chinese errors as ApiError). Pages name concrete paths; the types come from types.ts.
import { ApiError, api as unwrap, client } from '@/api'

export { ApiError }

type Call = Promise<{ data?: unknown; error?: unknown; response: Response }>
// openapi-fetch takes a concrete path as well as a template; the pages pass concrete ones
const raw = client as unknown as {
  GET(path: string): Call
  POST(path: string, init: { body: unknown }): Call
  PATCH(path: string, init: { body: unknown }): Call
  DELETE(path: string): Call
}

export const api = {
  get: <T>(path: string) => unwrap(raw.GET(path)) as Promise<T>,
  post: <T>(path: string, body: unknown = {}) => unwrap(raw.POST(path, { body })) as Promise<T>,
  patch: <T>(path: string, body: unknown) => unwrap(raw.PATCH(path, { body })) as Promise<T>,
  del: <T>(path: string) => unwrap(raw.DELETE(path)) as Promise<T>,
}

export function errorText(err: unknown): string {
  if (err instanceof ApiError) return err.message
  return '网络异常，请检查网络后重试'
}
