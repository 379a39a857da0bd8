// One way to tell a person what happened: success toasts, and the API's Chinese message on failure.
import { ElMessage } from 'element-plus'
import { ApiError } from '@/api'

export function done(message: string) {
  ElMessage({ type: 'success', message, showClose: true })
}

export function failed(err: unknown) {
  const message = err instanceof ApiError ? err.message : '操作未能完成，请重试'
  ElMessage({ type: 'error', message, showClose: true, duration: 6000 })
}

/** Runs an action, toasting success or the API's message; returns whether it worked. */
export async function attempt(action: () => Promise<unknown>, success: string): Promise<boolean> {
  try {
    await action()
    done(success)
    return true
  } catch (err) {
    failed(err)
    return false
  }
}
