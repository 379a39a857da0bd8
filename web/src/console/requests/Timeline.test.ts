import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import Timeline from './Timeline.vue'

describe('Timeline', () => {
  it('tells each step in Chinese, in Beijing time, with who and why', () => {
    const wrapper = mount(Timeline, { props: { entries: [
      { at: '2026-03-05T02:30:00+00:00', actor_id: 7, actor_role: 'community_staff', action: 'escalate',
        action_label: '上报', from_state: 'accepted', to_state: 'accepted', reason: '需要单位的维修力量' },
    ] } })
    const text = wrapper.text()
    expect(text).toContain('2026-03-05 10:30')
    expect(text).toContain('上报')
    expect(text).toContain('社区工作人员')
    expect(text).toContain('已受理待派单')
    expect(text).toContain('原因：需要单位的维修力量')
    expect(text).not.toContain('accepted')
  })

  it('names who acted, never a bare account number', () => {
    const wrapper = mount(Timeline, { props: { entries: [
      { at: '2026-03-05T02:30:00+00:00', actor_id: 6, actor_role: 'resident', actor_name: '王阿姨', action: 'submit',
        action_label: '点单', from_state: null, to_state: 'submitted', reason: '' },
      { at: '2026-03-05T02:31:00+00:00', actor_id: null, actor_role: 'system', action: 'accept',
        action_label: '受理', from_state: 'submitted', to_state: 'accepted', reason: '' },
    ] } })
    const text = wrapper.text()
    expect(text).toContain('王阿姨')
    expect(text).not.toContain('#6')
  })
})
