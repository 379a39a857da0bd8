// 社区组织：电子党支部、志愿服务队、结对、服务岗位、社区需求、共驻共建单位；单位的共建协议与主题党日. Spread into ../routes.ts and ../menus.ts.
import type { RouteRecordRaw } from 'vue-router'
import type { MenuEntry } from '../menus'

export const organisationRoutes: RouteRecordRaw[] = []

// side-menu entries by role, placed before 站内消息
export const organisationMenu: Record<string, MenuEntry[]> = {}
