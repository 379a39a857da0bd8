export { api, client, download, onUnauthorized } from './client'
export { ApiError, type FieldErrors } from './errors'
export type { components, paths } from './schema'

import type { components } from './schema'
/** A schema of the API by its OpenAPI name, e.g. `Schema<'DispatchRequest'>`. */
export type Schema<Name extends keyof components['schemas']> = components['schemas'][Name]
