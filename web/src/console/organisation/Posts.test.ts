import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import Posts from './Posts.vue'

function json(body: unknown, status = 200) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })
}

describe('Posts', () => {
  afterEach(() => vi.restoreAllMocks())

  it('lists the posts and shows the API error beside the field', async () => {
    const sent: string[] = []
    vi.spyOn(globalThis, 'fetch').mockImplementation(async (input) => {
      const request = input as Request
      if (request.method === 'POST') {
        sent.push(await request.clone().text())
        return json({ error: { code: 'VALIDATION_FAILED', message: '输入有误', fields: { name: ['该岗位已存在'] } } }, 422)
      }
      return json([{ id: 1, community_id: 3, category: '公共事务', name: '法律服务', description: '', active: true, members: 2 }])
    })
    const wrapper = mount(Posts, { props: { communityId: 3 }, attachTo: document.body })
    await flushPromises()
    expect(wrapper.text()).toContain('法律服务')
    await wrapper.findAll('button').find((b) => b.text() === '新增岗位')!.trigger('click')
    await wrapper.find('form').trigger('submit')
    await flushPromises()
    await vi.waitFor(() => expect(wrapper.text()).toContain('请填写岗位类别'))
    expect(wrapper.text()).toContain('请填写岗位名称')
    expect(sent).toHaveLength(0)
    ;(wrapper.vm.$ as unknown as { setupState: { form: { category: string } } }).setupState.form.category = '公共事务'
    await wrapper.find('#post-name').setValue('法律服务')
    await wrapper.find('form').trigger('submit')
    await flushPromises()
    expect(JSON.parse(sent[0])).toMatchObject({ category: '公共事务', name: '法律服务' })
    await vi.waitFor(() => expect(wrapper.text()).toContain('该岗位已存在'))
    wrapper.unmount()
  })
})
