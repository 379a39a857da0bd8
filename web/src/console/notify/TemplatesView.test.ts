import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import TemplatesView from './TemplatesView.vue'

function json(body: unknown, status = 200) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })
}

describe('TemplatesView', () => {
  afterEach(() => vi.restoreAllMocks())

  it('lists the templates and previews one with the values typed in', async () => {
    const bodies: unknown[] = []
    vi.spyOn(globalThis, 'fetch').mockImplementation(async (input) => {
      const request = input as Request
      if (request.url.endsWith('/preview')) {
        const body = await request.clone().json()
        bodies.push(body)
        return body.fields.title
          ? json({ kind: 'new_need', ok: true, title: `【新需求】${body.fields.title}`, body: '请关注', missing: [] })
          : json({ kind: 'new_need', ok: false, title: null, body: null, missing: ['title'] })
      }
      return json([{ kind: 'new_need', label: '群聊：新需求', title: '【新需求】{title}', body: '…', fields: ['title'], urgent: false }])
    })
    const wrapper = mount(TemplatesView, { attachTo: document.body })
    await flushPromises()
    expect(wrapper.text()).toContain('群聊：新需求')
    await wrapper.find('.el-table__body tr').trigger('click')
    await flushPromises()
    await flushPromises()
    await wrapper.find('form').trigger('submit')
    await flushPromises()
    expect(wrapper.text()).toContain('还缺少：title')
    await wrapper.find('#tpl-title').setValue('法律咨询')
    await wrapper.find('form').trigger('submit')
    await flushPromises()
    expect(bodies.at(-1)).toEqual({ kind: 'new_need', fields: { title: '法律咨询' } })
    expect(wrapper.text()).toContain('【新需求】法律咨询')
    wrapper.unmount()
  })
})
