// Chinese names for the API's stable English codes (the API also sends `state_label` and
// `action_label`; these tables serve filters and places where only a code is at hand).
export const ROLE_LABELS: Record<string, string> = {
  resident: '居民',
  member: '在职党员',
  grid_leader: '网格长',
  community_staff: '社区工作人员',
  street_staff: '街道工作人员',
  district_staff: '区县组织部',
  unit_org: '单位党组织',
  applicant: '待审核党员',
  system: '系统',
}

export const REQUEST_STATES: Record<string, string> = {
  submitted: '待受理',
  accepted: '已受理待派单',
  dispatched: '待接单',
  claimed: '已接单',
  in_service: '服务中',
  done: '已完成待确认',
  closed: '已办结',
  rejected: '未受理',
  duplicate: '重复已合并',
  cancelled: '已撤销',
}

export const LEVELS: Record<string, string> = {
  grid: '网格',
  community: '社区',
  street: '街道',
  district: '区县',
}

export const MEMBER_STATUS: Record<string, string> = {
  submitted: '待审核',
  accepted: '已通过',
  rejected: '已退回',
  revoked: '已撤销',
  transferred: '已转出',
}

export const SCOPES: Record<string, string> = {
  community: '社区',
  grid: '网格',
  e_branch: 'e支部',
  work_unit: '单位',
}

export function label(table: Record<string, string>, code: string | null | undefined): string {
  if (!code) return '—'
  return table[code] ?? code
}

/** Who acted on a timeline: 社区工作人员 张三; an account whose name is not known shows its role alone. */
export function actorText(e: { actor_role?: string | null; actor_name?: string | null }): string {
  const role = label(ROLE_LABELS, e.actor_role)
  if (!e.actor_name) return role
  return e.actor_name.includes(role) ? e.actor_name : `${role} ${e.actor_name}`
}
