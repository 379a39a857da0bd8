// 微心愿与意见建议看板. Spread into ../routes.ts and ../menus.ts.
// Who sees what follows authz/table.py: wishes are listed to grid leaders and offices; opinions
// (list, stats, assign, resolve) to offices only (the service refuses grid leaders a list).
import type { RouteRecordRaw } from 'vue-router'
import type { MenuEntry } from '../menus'

const WISH_ROLES = ['community_staff', 'grid_leader', 'street_staff', 'district_staff']
const OPINION_ROLES = ['community_staff', 'street_staff', 'district_staff']

export const boardsRoutes: RouteRecordRaw[] = [
  { path: 'boards/wishes', name: 'boards-wishes', component: () => import('./WishesBoard.vue'),
    meta: { title: '微心愿', roles: WISH_ROLES } },
  { path: 'boards/opinions', name: 'boards-opinions', component: () => import('./OpinionsBoard.vue'),
    meta: { title: '意见建议', roles: OPINION_ROLES } },
]

const WISHES: MenuEntry = { path: '/boards/wishes', title: '微心愿' }
const OPINIONS: MenuEntry = { path: '/boards/opinions', title: '意见建议' }

// side-menu entries by role, placed before 站内消息
export const boardsMenu: Record<string, MenuEntry[]> = {
  community_staff: [WISHES, OPINIONS],
  grid_leader: [WISHES],
  street_staff: [WISHES, OPINIONS],
  district_staff: [WISHES, OPINIONS],
}
