// The one API client of both entries (console and H5): typed from the generated OpenAPI types,
// authenticated by the HttpOnly session cookie, with the CSRF header on every write.
import createClient, { type Middleware } from 'openapi-fetch'
import type { paths } from './schema'
import { ApiError } from './errors'

export const CSRF_COOKIE = 'baodao_csrf'
export const CSRF_HEADER = 'X-CSRF-Token'
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS'])

export function readCookie(name: string, cookies: string = document.cookie): string {
  for (const part of cookies.split(';')) {
    const [key, ...rest] = part.trim().split('=')
    if (key === name) return decodeURIComponent(rest.join('='))
  }
  return ''
}

type Listener = () => void
const unauthorizedListeners = new Set<Listener>()
/** Called when any request answers 401 (session expired): the app shows the login page. */
export function onUnauthorized(listener: Listener): () => void {
  unauthorizedListeners.add(listener)
  return () => unauthorizedListeners.delete(listener)
}

const auth: Middleware = {
  onRequest({ request }) {
    if (!SAFE.has(request.method)) request.headers.set(CSRF_HEADER, readCookie(CSRF_COOKIE))
    return request
  },
  onResponse({ request, response }) {
    if (response.status === 401 && !request.url.includes('/api/auth/')) {
      unauthorizedListeners.forEach((listener) => listener())
    }
    return response
  },
}

// fetch looked up per call (not captured at load), so tests and polyfills can replace it
export const client = createClient<paths>({
  baseUrl: '/', credentials: 'same-origin', fetch: (request: Request) => globalThis.fetch(request),
})
client.use(auth)

type Result<T> = { data?: T; error?: unknown; response: Response }

/** Unwraps an openapi-fetch call: its data, or an {@link ApiError} with the API's Chinese message. */
export async function api<T>(call: Promise<Result<T>>): Promise<T> {
  let result: Result<T>
  try {
    result = await call
  } catch {
    throw new ApiError(0, 'NETWORK_ERROR', '网络连接失败，请检查网络后重试')
  }
  if (result.error !== undefined || !result.response.ok) {
    throw ApiError.from(result.response.status, result.error)
  }
  return result.data as T
}

/**
 * Downloads a file the API makes (XLSX/CSV/PNG) with the session cookie, saving it under the
 * name the server gives; errors come back as {@link ApiError} like every other call.
 */
export async function download(url: string, fallbackName: string): Promise<string> {
  let response: Response
  try {
    response = await fetch(url, { credentials: 'same-origin' })
  } catch {
    throw new ApiError(0, 'NETWORK_ERROR', '网络连接失败，请检查网络后重试')
  }
  if (!response.ok) {
    let body: unknown
    try { body = await response.json() } catch { body = undefined }
    throw ApiError.from(response.status, body)
  }
  const name = filenameOf(response.headers.get('Content-Disposition')) || fallbackName
  const blobUrl = URL.createObjectURL(await response.blob())
  const link = document.createElement('a')
  link.href = blobUrl
  link.download = name
  document.body.appendChild(link)
  link.click()
  link.remove()
  setTimeout(() => URL.revokeObjectURL(blobUrl), 10_000)
  return name
}

export function filenameOf(disposition: string | null): string {
  if (!disposition) return ''
  const star = /filename\*=UTF-8''([^;]+)/i.exec(disposition)
  if (star) return decodeURIComponent(star[1])
  const plain = /filename="?([^";]+)"?/i.exec(disposition)
  return plain ? plain[1] : ''
}
