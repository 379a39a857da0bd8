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
})
