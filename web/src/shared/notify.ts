// One way to tell a person what happened: success toasts, and the API's Chinese message on failure.
import { ElMessage } from 'element-plus'
import type { Ref } from 'vue'
import { ApiError, type FieldErrors } from '@/api'

export function done(message: string) {
  ElMessage({ type: 'success', message, showClose: true })
}

export function failed(err: unknown) {
  const message = err instanceof ApiError ? err.message : '操作未能完成，请重试'
  ElMessage({ type: 'error', message, showClose: true, duration: 6000 })
}

/** Runs an action, toasting success or the API's message; returns whether it worked. With
 * `fields`, a form's errors: the API's field messages land there, beside their inputs. */
export async function attempt(action: () => Promise<unknown>, success: string, fields?: Ref<FieldErrors>): Promise<boolean> {
  try {
    await action()
    done(success)
    return true
  } catch (err) {
    if (fields && err instanceof ApiError) fields.value = err.fields
    failed(err)
    return false
  }
}
