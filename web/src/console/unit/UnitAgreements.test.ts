import { beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { useSession } from '@/stores/session'
import UnitAgreements from './UnitAgreements.vue'

const REPORT = { id: 1, work_unit_id: 7, work_unit_name: '佛山市某单位', community_id: 3, community_name: '东风社区',
  agreement: '资源共享、活动共办、难题共解', commitments: ['每年开展两次义诊', '开放单位活动室'], year: 2026, members_reported: 6,
  reported_at: '2026-03-01T02:00:00+00:00' }

function json(body: unknown, status = 200) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })
}

describe('UnitAgreements', () => {
  beforeEach(() => { setActivePinia(createPinia()); vi.restoreAllMocks() })

  it("lists the unit's agreements and renews one's commitments, one a line", async () => {
    useSession().user = { user_id: 2, role: 'unit_org', name: '佛山市某单位机关党委', work_unit_id: 7 } as never
    const calls: { url: string; method: string; body: string }[] = []
    vi.spyOn(globalThis, 'fetch').mockImplementation(async (input) => {
      const request = input as Request
      calls.push({ url: request.url, method: request.method, body: await request.clone().text() })
      return request.method === 'POST' ? json(REPORT, 201) : json([REPORT])
    })
    const wrapper = mount(UnitAgreements, { attachTo: document.body })
    await flushPromises()
    expect(calls[0].url).toContain('/api/work-units/7/reports')
    expect(wrapper.text()).toContain('东风社区')
    expect(wrapper.text()).toContain('每年开展两次义诊')
    await wrapper.findAll('button').find((b) => b.text() === '更新承诺')!.trigger('click')
    await flushPromises()
    expect(wrapper.find('form').exists()).toBe(true)
    await wrapper.find('#agr-commitments').setValue('')
    await wrapper.find('form').trigger('submit')
    await flushPromises()
    await vi.waitFor(() => expect(wrapper.text()).toContain('请至少写一项共建承诺'))
    await wrapper.find('#agr-commitments').setValue('每年开展两次义诊\n\n 周末开放停车场 ')
    await wrapper.find('form').trigger('submit')
    await flushPromises()
    const post = calls.find((c) => c.method === 'POST')!
    expect(JSON.parse(post.body)).toMatchObject({ community_id: 3, commitments: ['每年开展两次义诊', '周末开放停车场'] })
    wrapper.unmount()
  })
})
