import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { useSession } from '@/stores/session'
import WishesBoard from './WishesBoard.vue'

function json(body: unknown, status = 200) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })
}

const wish = (id: number, extra = {}) => ({ id, title: `心愿${id}`, state: 'posted', state_label: '待认领',
  community_id: 3, beneficiary: '', resident_id: 9, member_id: null, created_at: '2026-03-05T02:30:00+00:00', ...extra })

describe('WishesBoard', () => {
  afterEach(() => vi.restoreAllMocks())

  it('pages on the server, filters by state, and names who claimed', async () => {
    setActivePinia(createPinia())
    useSession().user = { role: 'community_staff', community_id: 3, user_id: 1 }
    const urls: string[] = []
    vi.spyOn(globalThis, 'fetch').mockImplementation(async (input) => {
      const url = (input as Request).url
      urls.push(url)
      if (url.includes('/api/members/11')) return json({ id: 11, name: '张伟' })
      if (url.includes('/api/wishes')) {
        const claimed = url.includes('state=claimed')
        // 21 rows: one more than a page, so there is a next page
        return json(Array.from({ length: claimed ? 1 : 21 }, (_, i) =>
          wish(100 - i, claimed ? { state: 'claimed', state_label: '已认领', member_id: 11 } : {})))
      }
      return json({})
    })
    const wrapper = mount(WishesBoard, { attachTo: document.body })
    await flushPromises()
    expect(urls.some((u) => u.includes('/api/wishes?') && u.includes('limit=21') && u.includes('offset=0'))).toBe(true)
    expect(wrapper.findAll('.el-table__body tr')).toHaveLength(20)
    expect(wrapper.text()).toContain('居民本人')
    const next = wrapper.findAll('button').find((b) => b.text() === '下一页')!
    expect(next.attributes('disabled')).toBeUndefined()
    await next.trigger('click')
    await flushPromises()
    expect(urls.some((u) => u.includes('offset=20'))).toBe(true)

    const claimed = wrapper.findAll('.el-radio-button').find((b) => b.text() === '已认领')!
    await claimed.find('input').setValue(true)
    await flushPromises()
    expect(urls.some((u) => u.includes('state=claimed') && u.includes('offset=0'))).toBe(true)
    expect(wrapper.text()).toContain('张伟')
    expect(wrapper.text()).toContain('代群众发布心愿')
    wrapper.unmount()
  }, 15000) // twenty table rows render slowly in happy-dom on a busy machine
})
