import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import DispatchPanel from './DispatchPanel.vue'

const CANDIDATES = [
  { rank: 1, member_id: 11, name: '张伟', skills: ['法律'], open_load: 0, reasons: ['技能匹配1项', '同一网格'] },
  { rank: 2, member_id: 12, name: '陈静', skills: ['法律'], open_load: 2, reasons: ['技能匹配1项'] },
]

function json(body: unknown, status = 200) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })
}

describe('DispatchPanel', () => {
  afterEach(() => vi.restoreAllMocks())

  it('shows the ranked candidates with their reasons and offers to the chosen one', async () => {
    const calls: { url: string; method: string; body: string }[] = []
    vi.spyOn(globalThis, 'fetch').mockImplementation(async (input) => {
      const request = input as Request
      calls.push({ url: request.url, method: request.method, body: await request.clone().text() })
      return request.url.endsWith('/candidates') ? json(CANDIDATES) : json({ id: 5, state: 'dispatched' })
    })
    const wrapper = mount(DispatchPanel, { props: { requestId: 5 }, attachTo: document.body })
    await flushPromises()
    expect(wrapper.text()).toContain('技能匹配1项；同一网格')
    expect(wrapper.text()).toContain('张伟')
    await wrapper.findAll('.el-table__body tr')[0].find('.el-checkbox').trigger('click')
    await flushPromises()
    const offer = wrapper.findAll('button').find((b) => b.text().startsWith('派给所选党员'))!
    expect(offer.text()).toContain('（1）')
    await offer.trigger('click')
    await flushPromises()
    const sent = calls.find((c) => c.url.endsWith('/api/requests/5/offer'))!
    expect(sent.method).toBe('POST')
    expect(JSON.parse(sent.body)).toMatchObject({ member_ids: [11], open_to_all: false })
    expect(wrapper.emitted('done')).toBeTruthy()
    wrapper.unmount()
  })
})
