// A confirmation before an action that cannot be undone. Vant's dialog puts its title text into
// aria-labelledby (which wants an element id), so screen readers get an unnamed dialog; this names
// it by its title instead. Resolves true when the person confirms.
import { nextTick } from 'vue'
import { showConfirmDialog } from 'vant'
import { hideToast } from './toast'

export interface Confirmation { title: string; message: string; confirmButtonText?: string; cancelButtonText?: string }

export async function confirmAction(options: Confirmation): Promise<boolean> {
  hideToast() // the question is what the person reads now, not the last action's note
  const pending = showConfirmDialog({ cancelButtonText: '取消', ...options, className: 'h5-confirm' })
  await nextTick()
  for (const dialog of document.querySelectorAll('.h5-confirm')) {
    dialog.removeAttribute('aria-labelledby')
    dialog.setAttribute('aria-label', options.title)
  }
  try {
    await pending
    return true
  } catch {
    return false // cancelled
  }
}
