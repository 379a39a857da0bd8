// The side menu of each role: path and Chinese title.
import { recordsMenu } from './records/routes'

export interface MenuEntry { path: string; title: string }

export const MENUS: Record<string, MenuEntry[]> = {
  community_staff: [{ path: '/community', title: '社区工作台' }, ...recordsMenu],
  grid_leader: [{ path: '/grid', title: '网格工作台' }],
  street_staff: [{ path: '/area', title: '统筹工作台' }],
  district_staff: [{ path: '/area', title: '统筹工作台' }],
  unit_org: [{ path: '/unit', title: '单位工作台' }],
}
