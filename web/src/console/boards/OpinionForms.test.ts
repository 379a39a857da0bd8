import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { ElMessageBox } from 'element-plus'
import AssignForm from './AssignForm.vue'
import ResolveForm from './ResolveForm.vue'

function json(body: unknown, status = 200) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })
}

// Element Plus gives inputs their ids after mounting, and shows a field's error after 100 ms
const settle = async () => { await flushPromises(); await new Promise((r) => setTimeout(r, 200)); await flushPromises() }

function record() {
  const calls: { url: string; method: string; body: string }[] = []
  const reply = { value: json({ id: 7, state: 'assigned' }) as Response }
  vi.spyOn(globalThis, 'fetch').mockImplementation(async (input) => {
    const request = input as Request
    calls.push({ url: request.url, method: request.method, body: await request.clone().text() })
    return reply.value.clone()
  })
  return { calls, reply }
}

describe('AssignForm', () => {
  afterEach(() => vi.restoreAllMocks())

  it('asks for an assignee beside the field before sending anything', async () => {
    const { calls } = record()
    const wrapper = mount(AssignForm, { props: { opinionId: 7, current: '' }, attachTo: document.body })
    await flushPromises()
    await wrapper.find('form').trigger('submit')
    await settle()
    expect(wrapper.text()).toContain('请填写承办人或承办部门')
    expect(calls.filter((c) => c.url.includes('/assign'))).toHaveLength(0)
    wrapper.unmount()
  })

  it('assigns with the deadline and note, and shows the API error beside its field', async () => {
    const { calls, reply } = record()
    const wrapper = mount(AssignForm, { props: { opinionId: 7, current: '' }, attachTo: document.body })
    await flushPromises()
    await wrapper.find('#assign-assignee').setValue('李主任')
    await wrapper.find('#assign-reason').setValue('本周内')
    await wrapper.find('form').trigger('submit')
    await flushPromises()
    const sent = calls.find((c) => c.url.endsWith('/api/opinions/7/assign'))!
    expect(sent.method).toBe('POST')
    expect(JSON.parse(sent.body)).toMatchObject({ assignee: '李主任', reason: '本周内', due_days: null })
    expect(wrapper.emitted('assigned')?.[0]).toEqual([{ id: 7, state: 'assigned' }])

    reply.value = json({ error: { code: 'VALIDATION_ERROR', message: '输入有误', fields: { assignee: ['太长了'] } } }, 400)
    await wrapper.find('form').trigger('submit')
    await settle()
    expect(wrapper.text()).toContain('太长了')
    wrapper.unmount()
  })
})

describe('ResolveForm', () => {
  afterEach(() => vi.restoreAllMocks())

  it('needs a reply, asks for confirmation, then resolves', async () => {
    const { calls } = record()
    const confirm = vi.spyOn(ElMessageBox, 'confirm').mockResolvedValue('confirm' as never)
    const wrapper = mount(ResolveForm, { props: { opinionId: 7 }, attachTo: document.body })
    await flushPromises()
    await wrapper.find('form').trigger('submit')
    await settle()
    expect(wrapper.text()).toContain('请填写给群众的答复')
    expect(confirm).not.toHaveBeenCalled()

    await wrapper.find('#resolve-text').setValue('已修好')
    await wrapper.find('form').trigger('submit')
    await flushPromises()
    expect(confirm).toHaveBeenCalledOnce()
    const sent = calls.find((c) => c.url.endsWith('/api/opinions/7/resolve'))!
    expect(JSON.parse(sent.body)).toEqual({ resolution: '已修好' })
    expect(wrapper.emitted('resolved')).toBeTruthy()
    wrapper.unmount()
  })

  it('sends nothing when the confirmation is cancelled', async () => {
    const { calls } = record()
    vi.spyOn(ElMessageBox, 'confirm').mockRejectedValue('cancel')
    const wrapper = mount(ResolveForm, { props: { opinionId: 7 }, attachTo: document.body })
    await flushPromises()
    await wrapper.find('#resolve-text').setValue('已修好')
    await wrapper.find('form').trigger('submit')
    await flushPromises()
    expect(calls.filter((c) => c.url.includes('/resolve'))).toHaveLength(0)
    wrapper.unmount()
  })
})
