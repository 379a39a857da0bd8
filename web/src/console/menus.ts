// The side menu of each role: path and Chinese title.
import { boardsMenu } from './boards/routes'
import { notifyMenu } from './notify/routes'
import { organisationMenu } from './organisation/routes'
import { recordsMenu } from './records/routes'
import { rosterMenu } from './roster/routes'

export interface MenuEntry { path: string; title: string }

const AREA: MenuEntry[] = [
  { path: '/area', title: '统筹看板' },
  { path: '/area/escalations', title: '上报待办' },
  { path: '/area/requests', title: '辖区服务请求' },
  { path: '/area/quarters', title: '季度结账与排名' },
  { path: '/messages', title: '站内消息' },
]

const BASE: Record<string, MenuEntry[]> = {
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

// Each area's own entries (its routes.ts) go before 站内消息, which stays last.
const AREAS = [organisationMenu, rosterMenu, boardsMenu, notifyMenu]

export const MENUS: Record<string, MenuEntry[]> = Object.fromEntries(
  Object.entries(BASE).map(([role, base]) => {
    const added = AREAS.flatMap((area) => area[role] ?? [])
    const last = base.length - 1
    return [role, [...base.slice(0, last), ...added, base[last]]]
  }),
)
