// Chinese names for the API's stable English codes.
export const ROLE_LABELS: Record<string, string> = {
  resident: '居民',
  member: '在职党员',
  grid_leader: '网格长',
  community_staff: '社区工作人员',
  street_staff: '街道工作人员',
  district_staff: '区县组织部',
  unit_org: '单位党组织',
  system: '系统',
}

export const REQUEST_STATES: Record<string, string> = {
  submitted: '待受理',
  accepted: '已受理',
  rejected: '不予受理',
  duplicate: '重复合并',
  dispatched: '待接单',
  claimed: '已接单',
  in_service: '服务中',
  done: '待确认',
  confirmed: '已确认',
  closed: '已办结',
  cancelled: '已撤销',
  escalated: '已上报',
}

export const LEVELS: Record<string, string> = {
  grid: '网格',
  community: '社区',
  street: '街道',
  district: '区县',
}

export function label(table: Record<string, string>, code: string | null | undefined): string {
  if (!code) return '—'
  return table[code] ?? code
}
