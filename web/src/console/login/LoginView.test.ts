import { describe, expect, it, vi, beforeEach } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { createMemoryHistory, createRouter } from 'vue-router'
import LoginView from './LoginView.vue'

// Element Plus debounces showing a field's error by 100 ms
const settle = async () => { await flushPromises(); await new Promise((r) => setTimeout(r, 200)); await flushPromises() }

async function render() {
  const router = setup()
  await router.push('/login')
  await router.isReady()
  const wrapper = mount(LoginView, { global: { plugins: [router] } })
  await flushPromises() // Element Plus gives inputs their ids after mounting
  return wrapper
}

function setup() {
  const router = createRouter({ history: createMemoryHistory(), routes: [
    { path: '/login', component: LoginView },
    { path: '/community', component: { template: '<p>home</p>' } },
  ] })
  return router
}

describe('LoginView', () => {
  beforeEach(() => { setActivePinia(createPinia()); vi.restoreAllMocks() })

  it('ties each label to its input', async () => {
    const wrapper = await render()
    for (const id of ['login-username', 'login-password']) {
      expect(wrapper.find(`label[for="${id}"]`).exists()).toBe(true)
      expect(wrapper.find(`input#${id}`).exists()).toBe(true)
    }
  })

  it('says in Chinese what is missing, beside the field, without calling the API', async () => {
    const fetchSpy = vi.spyOn(globalThis, 'fetch')
    const wrapper = await render()
    await wrapper.find('form').trigger('submit')
    await settle()
    expect(wrapper.text()).toContain('请输入用户名或手机号')
    expect(wrapper.text()).toContain('请输入密码')
    expect(fetchSpy).not.toHaveBeenCalled()
  })

  it('shows the API message when the password is wrong', async () => {
    vi.spyOn(globalThis, 'fetch').mockResolvedValue(new Response(
      JSON.stringify({ error: { code: 'INVALID_CREDENTIALS', message: '用户名或密码错误' } }),
      { status: 401, headers: { 'Content-Type': 'application/json' } }))
    const wrapper = await render()
    await wrapper.find('#login-username').setValue('staff1')
    await wrapper.find('#login-password').setValue('wrong')
    await wrapper.find('form').trigger('submit')
    await flushPromises()
    expect(wrapper.find('[role="alert"]').text()).toBe('用户名或密码错误')
  })
})
