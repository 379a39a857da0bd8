// The console's screens by role; each role's folder owns its pages. Records (#16) may add
// `console/records/routes.ts` and spread it here.
import type { RouteRecordRaw } from 'vue-router'
import { boardsRoutes } from './boards/routes'
import { notifyRoutes } from './notify/routes'
import { organisationRoutes } from './organisation/routes'
import { recordsRoutes } from './records/routes'
import { rosterRoutes } from './roster/routes'

export const COMMUNITY = ['community_staff']
export const GRID = ['grid_leader']
export const AREA = ['street_staff', 'district_staff']
export const UNIT = ['unit_org']
export const STAFF = [...COMMUNITY, ...GRID, ...AREA]

const Requests = () => import('./requests/RequestsView.vue')
const Quarters = () => import('./quarters/QuartersView.vue')
const Activities = () => import('./activities/ActivitiesView.vue')

export const roleRoutes: RouteRecordRaw[] = [
  // 社区
  { path: 'community', name: 'community-home', component: () => import('./community/Workbench.vue'), meta: { title: '社区工作台', roles: COMMUNITY } },
  { path: 'community/requests', component: Requests, meta: { title: '服务请求', roles: COMMUNITY } },
  { path: 'community/registrations', component: () => import('./community/ReviewQueue.vue'), meta: { title: '报到审核', roles: COMMUNITY } },
  { path: 'community/activities', component: Activities, meta: { title: '志愿活动', roles: COMMUNITY } },
  { path: 'community/quarters', component: Quarters, meta: { title: '季度积分与评价', roles: COMMUNITY } },
  { path: 'community/points', component: Quarters, meta: { title: '积分', roles: COMMUNITY } },
  { path: 'community/roster', component: () => import('./roster/RosterView.vue'), meta: { title: '花名册与人才库', roles: COMMUNITY } },
  { path: 'community/menu', component: () => import('./menu/MenuView.vue'), meta: { title: '服务菜单', roles: COMMUNITY } },
  { path: 'community/notice/:period', component: () => import('./quarters/NoticeView.vue'), meta: { title: '通报公示', roles: COMMUNITY } },
  // 网格
  { path: 'grid', name: 'grid-home', component: Requests, meta: { title: '网格待办', roles: GRID } },
  { path: 'grid/members', component: () => import('./grid/GridMembers.vue'), meta: { title: '网格党员', roles: GRID } },
  { path: 'grid/activities', component: Activities, meta: { title: '志愿活动', roles: GRID } },
  // 街道、区县
  { path: 'area', name: 'area-home', component: () => import('./area/Dashboard.vue'), meta: { title: '统筹看板', roles: AREA } },
  { path: 'area/escalations', component: Requests, props: { source: 'escalations' }, meta: { title: '上报待办', roles: AREA } },
  { path: 'area/requests', component: Requests, meta: { title: '辖区服务请求', roles: AREA } },
  { path: 'area/quarters', component: Quarters, meta: { title: '季度结账与排名', roles: AREA } },
  // 单位
  { path: 'unit', name: 'unit-home', component: () => import('./unit/UnitHome.vue'), meta: { title: '单位季度报告', roles: UNIT } },
  // everyone signed in
  { path: 'messages', component: () => import('./messages/MessagesView.vue'), meta: { title: '站内消息' } },
  ...recordsRoutes,
  ...organisationRoutes,
  ...rosterRoutes,
  ...boardsRoutes,
  ...notifyRoutes,
]
