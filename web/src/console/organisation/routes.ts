// 社区组织：电子党支部、志愿服务队、结对、服务岗位、社区需求、共驻共建单位；单位的共建协议、主题党日与本单位党员. Spread into ../routes.ts and ../menus.ts.
import type { RouteRecordRaw } from 'vue-router'
import type { MenuEntry } from '../menus'

const COMMUNITY = ['community_staff']
const UNIT = ['unit_org']

export const organisationRoutes: RouteRecordRaw[] = [
  { path: 'community/organisation', component: () => import('./OrganisationView.vue'), meta: { title: '社区组织', roles: COMMUNITY } },
  { path: 'unit/agreements', component: () => import('../unit/UnitAgreements.vue'), meta: { title: '共建协议', roles: UNIT } },
  { path: 'unit/party-days', component: () => import('../unit/UnitPartyDays.vue'), meta: { title: '主题党日', roles: UNIT } },
  { path: 'unit/members', component: () => import('../unit/UnitMembers.vue'), meta: { title: '本单位党员', roles: UNIT } },
]

// side-menu entries by role, placed before 站内消息
export const organisationMenu: Record<string, MenuEntry[]> = {
  community_staff: [{ path: '/community/organisation', title: '社区组织' }],
  unit_org: [
    { path: '/unit/agreements', title: '共建协议' },
    { path: '/unit/party-days', title: '主题党日' },
    { path: '/unit/members', title: '本单位党员' },
  ],
}
