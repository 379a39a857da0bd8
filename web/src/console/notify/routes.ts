// 通知渠道、投递失败与重试、模板预览. Spread into ../routes.ts and ../menus.ts.
// Roles from authz/table.py: channels and deliveries are the offices' (community, street,
// district); templates and their preview are every staff role's, grid leaders included.
import type { RouteRecordRaw } from 'vue-router'
import type { MenuEntry } from '../menus'

const OFFICES = ['community_staff', 'street_staff', 'district_staff']
const STAFF = ['grid_leader', ...OFFICES]

export const notifyRoutes: RouteRecordRaw[] = [
  { path: 'notify/channels', name: 'notify-channels', component: () => import('./ChannelsView.vue'),
    meta: { title: '通知渠道', roles: OFFICES } },
  { path: 'notify/deliveries', name: 'notify-deliveries', component: () => import('./DeliveriesView.vue'),
    meta: { title: '投递失败与重发', roles: OFFICES } },
  { path: 'notify/templates', name: 'notify-templates', component: () => import('./TemplatesView.vue'),
    meta: { title: '消息模板', roles: STAFF } },
]

const CHANNELS: MenuEntry = { path: '/notify/channels', title: '通知渠道' }
const DELIVERIES: MenuEntry = { path: '/notify/deliveries', title: '投递失败与重发' }
const TEMPLATES: MenuEntry = { path: '/notify/templates', title: '消息模板' }

// side-menu entries by role, placed before 站内消息
export const notifyMenu: Record<string, MenuEntry[]> = {
  community_staff: [CHANNELS, DELIVERIES, TEMPLATES],
  grid_leader: [TEMPLATES],
  street_staff: [CHANNELS, DELIVERIES, TEMPLATES],
  district_staff: [CHANNELS, DELIVERIES, TEMPLATES],
}
