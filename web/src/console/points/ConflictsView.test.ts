import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'

vi.mock('element-plus', async (original) => {
  const real = await original<typeof import('element-plus')>()
  return { ...real, ElMessageBox: { ...real.ElMessageBox, prompt: vi.fn(async () => ({ value: '菜单分值已调整' })) } }
})

import ConflictsView from './ConflictsView.vue'
import { useSession } from '@/stores/session'

const OPEN = { id: 7, entry_key: 'request:41:8', entry_id: 3, member_id: 8, community_id: 3, points: 20, recorded_points: 15,
  kind: 'service', reason: '完成服务“法律咨询”', status: 'open', resolution: '', created_at: '2026-11-02T02:00:00+00:00' }

function json(body: unknown, status = 200) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })
}

describe('ConflictsView', () => {
  afterEach(() => vi.restoreAllMocks())

  it('lists the open conflicts and accepts one with a reason', async () => {
    setActivePinia(createPinia())
    useSession().user = { id: 2, role: 'community_staff', community_id: 3, name: '工作人员' } as never
    const calls: { url: string; method: string; body: string }[] = []
    vi.spyOn(globalThis, 'fetch').mockImplementation(async (input) => {
      const request = input as Request
      calls.push({ url: request.url, method: request.method, body: await request.clone().text() })
      return request.method === 'POST' ? json({ ...OPEN, status: 'accepted' }) : json([OPEN])
    })
    const wrapper = mount(ConflictsView, { global: { stubs: { 'router-link': { template: '<a><slot /></a>' } } } })
    await flushPromises()
    expect(calls[0].url).toContain('/api/communities/3/scoring/conflicts?status=open')
    const row = wrapper.find('.el-table__body tr').text()
    expect(row).toContain('服务请求 41')
    expect(row).toContain('待核对')
    await wrapper.findAll('button').find((b) => b.text() === '按新内容更正')!.trigger('click')
    await flushPromises()
    const sent = calls.find((c) => c.method === 'POST')!
    expect(sent.url).toContain('/api/scoring/conflicts/7/resolve')
    expect(JSON.parse(sent.body)).toEqual({ decision: 'accept', reason: '菜单分值已调整' })
  })
})
