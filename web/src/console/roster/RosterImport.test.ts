import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'

const uploaded = vi.hoisted(() => ({ outcome: null as unknown }))
vi.mock('./upload', async (original) => ({
  ...(await original<typeof import('./upload')>()),
  uploadRoster: vi.fn(async (_file: File, progress: (p: number) => void) => {
    progress(100)
    return uploaded.outcome
  }),
}))

import RosterImport from './RosterImport.vue'
import { templateCsv } from './upload'

async function pickAndImport() {
  const wrapper = mount(RosterImport, { global: { stubs: { 'router-link': { template: '<a><slot /></a>' } } } })
  const input = wrapper.find('input[type=file]')
  Object.defineProperty(input.element, 'files', { value: [new File(['姓名'], '名册.csv')] })
  await input.trigger('change')
  await wrapper.find('form').trigger('submit')
  await flushPromises()
  return wrapper
}

describe('RosterImport', () => {
  afterEach(() => vi.clearAllMocks())

  it('shows the counts of a written import', async () => {
    uploaded.outcome = { ok: true, result: { import_id: 3, rows: 12, created: 10, updated: 1, unchanged: 1, errors: [] } }
    const wrapper = await pickAndImport()
    expect(wrapper.text()).toContain('导入完成')
    const counts = wrapper.findAll('.counts div').map((d) => d.text())
    expect(counts).toEqual(['总行数12', '新登记10', '已更新1', '无变化1'])
  })

  it('shows the bad rows and offers their report when nothing was written', async () => {
    uploaded.outcome = { ok: false, message: '名册有1行错误，整表未导入', importId: 4, errorsUrl: '/api/roster/imports/4/errors',
      errors: [{ row: 3, reason: '身份证号码不正确' }] }
    const wrapper = await pickAndImport()
    expect(wrapper.text()).toContain('名册有1行错误，整表未导入')
    expect(wrapper.text()).toContain('错误行数：1')
    expect(wrapper.text()).toContain('身份证号码不正确')
    expect(wrapper.findAll('button').some((b) => b.text() === '下载错误报告（CSV）')).toBe(true)
  })

  it('offers a template whose header the importer reads', () => {
    const header = templateCsv().replace('\ufeff', '').split('\r\n')[0].split(',')
    expect(header.slice(0, 4)).toEqual(['姓名', '手机号码', '身份证号码', '所在社区'])
  })
})
