// 微心愿与意见建议看板；代居民点单. Spread into ../routes.ts and ../menus.ts.
import type { RouteRecordRaw } from 'vue-router'
import type { MenuEntry } from '../menus'

export const boardsRoutes: RouteRecordRaw[] = []

// side-menu entries by role, placed before 站内消息
export const boardsMenu: Record<string, MenuEntry[]> = {}
