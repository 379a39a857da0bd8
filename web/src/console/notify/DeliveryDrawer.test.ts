import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { ElMessageBox } from 'element-plus'
import DeliveryDrawer from './DeliveryDrawer.vue'

function json(body: unknown, status = 200) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })
}

const DEAD = { id: 5, title: '【新需求】法律咨询', kind: 'new_need', channel: 'webhook', status: 'dead', attempts: 1,
  last_error: 'webhook: HTTP 404' }

describe('DeliveryDrawer', () => {
  afterEach(() => vi.restoreAllMocks())

  it('shows why a delivery failed and resends it after confirmation', async () => {
    const calls: { url: string; method: string }[] = []
    vi.spyOn(globalThis, 'fetch').mockImplementation(async (input) => {
      const request = input as Request
      calls.push({ url: request.url, method: request.method })
      if (request.url.endsWith('/retry')) return json({ ...DEAD, status: 'retry', attempts: 0 })
      if (request.url.includes('/api/notification-templates')) return json([{ kind: 'new_need', label: '群聊：新需求' }])
      return json(DEAD)
    })
    vi.spyOn(ElMessageBox, 'confirm').mockResolvedValue('confirm' as never)
    const wrapper = mount(DeliveryDrawer, { props: { deliveryId: 5 }, attachTo: document.body })
    await flushPromises()
    const text = document.body.textContent ?? ''
    expect(text).toContain('webhook: HTTP 404')
    expect(text).toContain('投递失败')
    expect(text).toContain('Webhook（其他系统）')
    const retry = [...document.body.querySelectorAll('button')].find((b) => b.textContent?.trim() === '重发')!
    retry.click()
    await flushPromises()
    expect(calls.find((c) => c.url.endsWith('/api/notification-deliveries/5/retry'))?.method).toBe('POST')
    expect(wrapper.emitted('changed')).toBeTruthy()
    expect(document.body.textContent).toContain('等待重试')
    wrapper.unmount()
  })

  it('offers no resend for a record that is not a channel delivery', async () => {
    vi.spyOn(globalThis, 'fetch').mockImplementation(async () => json({ ...DEAD, channel: 'render' }))
    const wrapper = mount(DeliveryDrawer, { props: { deliveryId: 5 }, attachTo: document.body })
    await flushPromises()
    const buttons = [...document.body.querySelectorAll('button')].map((b) => b.textContent?.trim())
    expect(buttons).not.toContain('重发')
    expect(document.body.textContent).toContain('不能重发')
    wrapper.unmount()
  })
})
