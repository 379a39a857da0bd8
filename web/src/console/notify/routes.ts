// 通知渠道、投递失败与重试、模板预览. Spread into ../routes.ts and ../menus.ts.
import type { RouteRecordRaw } from 'vue-router'
import type { MenuEntry } from '../menus'

export const notifyRoutes: RouteRecordRaw[] = []

// side-menu entries by role, placed before 站内消息
export const notifyMenu: Record<string, MenuEntry[]> = {}
