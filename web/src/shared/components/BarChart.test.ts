import { describe, expect, it, vi } from 'vitest'
import { mount } from '@vue/test-utils'

// the canvas itself is ECharts' business; what matters here is what the chart is told
vi.mock('vue-echarts', () => ({ default: { name: 'VChart', props: ['option'], template: '<div class="vchart" />' } }))
const { default: BarChart } = await import('./BarChart.vue')

describe('BarChart', () => {
  it('says 暂无数据 instead of drawing an empty axis', () => {
    const wrapper = mount(BarChart, { props: { title: '各社区服务请求', categories: [], series: [{ name: '件数', data: [] }] } })
    expect(wrapper.text()).toContain('暂无数据')
    expect(wrapper.find('.vchart').exists()).toBe(false)
  })

  it('counts from 0 in whole numbers, and all-zero data gets a 0–1 axis', () => {
    const wrapper = mount(BarChart, { props: { title: '积分', categories: ['A社区'], series: [{ name: '积分', data: [0] }] } })
    const option = wrapper.findComponent({ name: 'VChart' }).props('option')
    expect(option.yAxis).toMatchObject({ min: 0, max: 1, minInterval: 1 })
  })

  it('lets hours be fractions', () => {
    const wrapper = mount(BarChart, { props: { title: '用时', categories: ['A社区'], series: [{ name: '小时', data: [0.4] }], fractions: true } })
    const option = wrapper.findComponent({ name: 'VChart' }).props('option')
    expect(option.yAxis.minInterval).toBeUndefined()
    expect(option.yAxis.max).toBeUndefined()
  })
})
