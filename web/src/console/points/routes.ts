// 积分冲突核对 (same source, different content): exported through ../roster/routes.ts.
import type { RouteRecordRaw } from 'vue-router'
import type { MenuEntry } from '../menus'

export const pointsRoutes: RouteRecordRaw[] = [
  { path: 'community/points/conflicts', component: () => import('./ConflictsView.vue'),
    meta: { title: '积分冲突核对', roles: ['community_staff'] } },
]

export const pointsMenu: MenuEntry[] = [{ path: '/community/points/conflicts', title: '积分冲突核对' }]
