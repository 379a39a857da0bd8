import { describe, expect, it } from 'vitest'
import { ref } from 'vue'
import { usePaged } from './paged'

describe('usePaged', () => {
  it('shows one page and jumps to the last after a create', () => {
    const rows = ref(Array.from({ length: 23 }, (_, i) => i))
    const { page, shown, last } = usePaged(rows)
    expect(shown.value).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    last()
    expect(page.value).toBe(3)
    expect(shown.value).toEqual([20, 21, 22])
  })
  it('stays on page 1 when empty', () => {
    const { page, last } = usePaged(ref([] as number[]))
    last()
    expect(page.value).toBe(1)
  })
})
