// 花名册深入：导入（进度、错误文件）、党员详情、履历、转移；人才库导出；积分流水、调整与冲突核对. Spread into ../routes.ts and ../menus.ts.
import type { RouteRecordRaw } from 'vue-router'
import type { MenuEntry } from '../menus'

export const rosterRoutes: RouteRecordRaw[] = []

// side-menu entries by role, placed before 站内消息
export const rosterMenu: Record<string, MenuEntry[]> = {}
