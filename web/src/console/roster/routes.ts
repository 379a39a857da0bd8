// 花名册深入：导入（进度、错误文件）、党员详情、履历、转移；人才库导出；积分流水、调整与冲突核对. Spread into ../routes.ts and ../menus.ts.
import type { RouteRecordRaw } from 'vue-router'
import type { MenuEntry } from '../menus'
import { pointsMenu, pointsRoutes } from '../points/routes'

const COMMUNITY = ['community_staff']

export const rosterRoutes: RouteRecordRaw[] = [
  { path: 'community/roster/import', component: () => import('./RosterImport.vue'),
    meta: { title: '花名册导入', roles: COMMUNITY } },
  { path: 'community/roster/members/:id(\\d+)', component: () => import('./MemberDetail.vue'), props: true,
    meta: { title: '党员详情', roles: COMMUNITY } },
  ...pointsRoutes,
]

// side-menu entries by role, placed before 站内消息
export const rosterMenu: Record<string, MenuEntry[]> = {
  community_staff: [{ path: '/community/roster/import', title: '花名册导入' }, ...pointsMenu],
}
