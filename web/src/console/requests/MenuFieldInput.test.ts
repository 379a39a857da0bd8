import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import MenuFieldInput from './MenuFieldInput.vue'

const base = { code: 'topic', description: '咨询事项', required: true, order: 1 }

describe('MenuFieldInput', () => {
  it('asks a one-of-list field with its options, by their Chinese names', () => {
    const wrapper = mount(MenuFieldInput, { props: { inputId: 'f-topic', modelValue: '', definition: {
      ...base, datatype: 'singlevaluelist', values: [{ key: 'family', name: '婚姻家庭' }, { key: 'labour', name: '劳动纠纷' }] } } })
    expect(wrapper.findAll('input[type=radio]')).toHaveLength(2)
    expect(wrapper.text()).toContain('劳动纠纷')
    expect(wrapper.text()).not.toContain('labour')
  })

  it('asks a text field as a text area and a string as one line', () => {
    const text = mount(MenuFieldInput, { props: { inputId: 'f-a', modelValue: '', definition: { ...base, datatype: 'text' } } })
    expect(text.find('textarea').exists()).toBe(true)
    const line = mount(MenuFieldInput, { props: { inputId: 'f-b', modelValue: '', definition: { ...base, datatype: 'string' } } })
    expect(line.find('input[type=text]').exists()).toBe(true)
  })
})
