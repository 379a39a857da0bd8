// One page of a list the API returns whole (these organisation lists are short: a community's
// branches, teams, posts); the pager shows 10 at a time so the screen stays usable at 1366x768.
import { computed, ref, type Ref } from 'vue'

export const PAGE_SIZE = 10

export function usePaged<T>(rows: Ref<T[]>, size = PAGE_SIZE) {
  const page = ref(1)
  const shown = computed(() => rows.value.slice((page.value - 1) * size, page.value * size))
  /** After a create: jump to the page holding the newest row (lists come oldest first). */
  function last() {
    page.value = Math.max(1, Math.ceil(rows.value.length / size))
  }
  return { page, shown, size, last }
}
