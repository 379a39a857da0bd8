// The console's screens by role; each role's folder owns its pages. Records (#16) may add
// `console/records/routes.ts` and spread it here.
import type { RouteRecordRaw } from 'vue-router'
import { recordsRoutes } from './records/routes'

export const COMMUNITY = ['community_staff']
export const GRID = ['grid_leader']
export const AREA = ['street_staff', 'district_staff']
export const UNIT = ['unit_org']

export const roleRoutes: RouteRecordRaw[] = [
  { path: 'community', name: 'community-home', component: () => import('./layout/Placeholder.vue'),
    meta: { title: '社区工作台', roles: COMMUNITY } },
  { path: 'grid', name: 'grid-home', component: () => import('./layout/Placeholder.vue'),
    meta: { title: '网格工作台', roles: GRID } },
  { path: 'area', name: 'area-home', component: () => import('./layout/Placeholder.vue'),
    meta: { title: '统筹工作台', roles: AREA } },
  { path: 'unit', name: 'unit-home', component: () => import('./layout/Placeholder.vue'),
    meta: { title: '单位工作台', roles: UNIT } },
  ...recordsRoutes,
]
