import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'
import { useSession } from '@/stores/session'
import { H5_HOME, homeOf } from './homes'
import ConsoleLayout from './layout/ConsoleLayout.vue'
import LoginView from './login/LoginView.vue'
import { roleRoutes } from './routes'

const routes: RouteRecordRaw[] = [
  { path: '/login', name: 'login', component: LoginView, meta: { public: true, title: '登录' } },
  { path: '/', component: ConsoleLayout, children: roleRoutes },
  // full screen for a projector on site, outside the console's frame
  { path: '/checkin/:id', component: () => import('./activities/CheckinScreen.vue'), meta: { title: '现场签到', roles: ['community_staff', 'grid_leader', 'street_staff', 'district_staff', 'unit_org'] } },
  { path: '/:rest(.*)*', name: 'not-found', component: () => import('./layout/NotFound.vue'), meta: { title: '页面不存在' } },
]

export const router = createRouter({ history: createWebHistory('/'), routes })

router.beforeEach(async (to) => {
  const session = useSession()
  const user = await session.load()
  if (to.meta.public) return true
  if (!user) return { name: 'login', query: to.fullPath === '/' ? {} : { next: to.fullPath } }
  const home = homeOf(user.role ?? '')
  if (home === H5_HOME) {
    window.location.assign(H5_HOME)
    return false
  }
  if (to.path === '/') return home
  const roles = to.matched.flatMap((r) => (r.meta.roles as string[] | undefined) ?? [])
  if (roles.length && !roles.includes(user.role ?? '')) return home
  return true
})

router.afterEach((to) => {
  document.title = `${(to.meta.title as string | undefined) ?? '工作台'} · 宝岛双报到工作台`
})
