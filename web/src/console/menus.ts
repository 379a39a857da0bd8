// The side menu of each role: path and Chinese title.
import { recordsMenu } from './records/routes'

export interface MenuEntry { path: string; title: string }

const AREA: MenuEntry[] = [
  { path: '/area', title: '统筹看板' },
  { path: '/area/escalations', title: '上报待办' },
  { path: '/area/requests', title: '辖区服务请求' },
  { path: '/area/quarters', title: '季度结账与排名' },
  { path: '/messages', title: '站内消息' },
]

export const MENUS: Record<string, MenuEntry[]> = {
  community_staff: [
    { path: '/community', title: '社区工作台' },
    { path: '/community/requests', title: '服务请求' },
    { path: '/community/registrations', title: '报到审核' },
    { path: '/community/roster', title: '花名册与人才库' },
    { path: '/community/menu', title: '服务菜单' },
    { path: '/community/activities', title: '志愿活动' },
    { path: '/community/quarters', title: '季度积分与评价' },
    ...recordsMenu,
    { path: '/messages', title: '站内消息' },
  ],
  grid_leader: [
    { path: '/grid', title: '网格待办' },
    { path: '/grid/members', title: '网格党员' },
    { path: '/grid/activities', title: '志愿活动' },
    { path: '/messages', title: '站内消息' },
  ],
  street_staff: AREA,
  district_staff: AREA,
  unit_org: [
    { path: '/unit', title: '单位季度报告' },
    { path: '/messages', title: '站内消息' },
  ],
}
