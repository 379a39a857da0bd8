// Chinese names for what the API sends as codes.
export const ROLE_LABELS: Record<string, string> = {
  resident: '居民', member: '党员', grid_leader: '网格长', community_staff: '社区工作人员',
  street_staff: '街道工作人员', district_staff: '区县工作人员', unit_org: '单位党组织', system: '系统',
}

/** The main path of a request, as a resident follows it. */
export const REQUEST_STEPS = ['已提交', '已派单', '已接单', '服务中', '已完成', '已评价']
const STEP_OF: Record<string, number> = {
  submitted: 0, accepted: 0, dispatched: 1, claimed: 2, in_service: 3, done: 4, closed: 5,
}
export function stepOf(state?: string): number {
  return state && state in STEP_OF ? STEP_OF[state] : -1
}

export function stateTagType(state?: string): 'primary' | 'success' | 'warning' | 'danger' | 'default' {
  if (state === 'closed' || state === 'confirmed' || state === 'resolved') return 'success'
  if (state === 'done' || state === 'fulfilled') return 'warning'
  if (state === 'cancelled' || state === 'rejected' || state === 'duplicate') return 'default'
  return 'primary'
}

/** "1/3 已接" for work several members share. */
export function placesLabel(claimed?: number, needed?: number): string {
  return (needed ?? 1) > 1 ? `${claimed ?? 0}/${needed} 已接` : ''
}
