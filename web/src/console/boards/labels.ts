// Chinese names of the wish and opinion codes (the API also sends state_label per row).
export const WISH_STATES: Record<string, string> = {
  posted: '待认领',
  claimed: '已认领',
  fulfilled: '已实现待确认',
  confirmed: '已确认',
  cancelled: '已撤销',
}

export const OPINION_STATES: Record<string, string> = {
  submitted: '已收集',
  assigned: '办理中',
  resolved: '已办结',
}

export const OPINION_KINDS: Record<string, string> = {
  suggestion: '建议',
  complaint: '投诉',
}

export const SUPERVISION: Record<string, string> = {
  community: '社区',
  street: '街道督办',
  district: '区县督办',
}
