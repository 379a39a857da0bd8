// Routes by area: /r resident, /m member, shared pages (login, activities, inbox) at the top.
// Hash history: a QR code or group-chat link opens any page without server-side fallbacks.
import { createRouter, createWebHashHistory, type RouteRecordRaw } from 'vue-router'
import { useSession } from './shared/session'

const routes: RouteRecordRaw[] = [
  { path: '/login', component: () => import('./shared/LoginPage.vue'), meta: { public: true, title: '登录' } },
  { path: '/', redirect: '/home' },
  { path: '/home', component: () => import('./shared/HomeRedirect.vue') },
  // resident
  { path: '/r/menu', component: () => import('./resident/MenuPage.vue'), meta: { area: 'resident', title: '社区服务点单' } },
  { path: '/r/order/:itemId', component: () => import('./resident/OrderPage.vue'), meta: { area: 'resident', title: '填写服务需求' } },
  { path: '/r/requests', component: () => import('./resident/RequestsPage.vue'), meta: { area: 'resident', title: '我的服务请求' } },
  { path: '/r/requests/:id', component: () => import('./resident/RequestDetail.vue'), meta: { area: 'resident', title: '服务进度' } },
  { path: '/r/wishes', component: () => import('./resident/WishesPage.vue'), meta: { area: 'resident', title: '微心愿' } },
  { path: '/r/opinions', component: () => import('./resident/OpinionsPage.vue'), meta: { area: 'resident', title: '意见建议' } },
  { path: '/r/me', component: () => import('./resident/ResidentMe.vue'), meta: { area: 'resident', title: '我的' } },
  // member
  { path: '/m/status', component: () => import('./member/StatusPage.vue'), meta: { area: 'member', any: true, title: '报到状态' } },
  { path: '/m/work', component: () => import('./member/WorkPage.vue'), meta: { area: 'member', title: '接单' } },
  { path: '/m/requests/:id', component: () => import('./member/ServePage.vue'), meta: { area: 'member', title: '服务详情' } },
  { path: '/m/claim', component: () => import('./member/ClaimPage.vue'), meta: { area: 'member', title: '认领' } },
  { path: '/m/card', component: () => import('./member/CardPage.vue'), meta: { area: 'member', title: '电子义工证' } },
  { path: '/m/record', component: () => import('./records/RecordPage.vue'), meta: { area: 'member', title: '志愿服务记录' } },
  { path: '/m/record/confirm', component: () => import('./records/ConfirmPage.vue'), meta: { area: 'member', title: '确认服务时长' } },
  { path: '/m/points', component: () => import('./member/PointsPage.vue'), meta: { area: 'member', title: '我的积分' } },
  { path: '/m/profile', component: () => import('./member/ProfilePage.vue'), meta: { area: 'member', title: '特长与空闲时间' } },
  { path: '/m/transfer', component: () => import('./member/TransferPage.vue'), meta: { area: 'member', title: '转移报到关系' } },
  { path: '/m/publish', component: () => import('./member/PublishActivity.vue'), meta: { area: 'member', title: '发布e支部活动' } },
  { path: '/m/me', component: () => import('./member/MemberMe.vue'), meta: { area: 'member', any: true, title: '我的' } },
  // both
  { path: '/activities', component: () => import('./shared/activities/ActivityList.vue'), meta: { title: '志愿活动' } },
  { path: '/activities/:id', component: () => import('./shared/activities/ActivityDetail.vue'), meta: { title: '活动详情' } },
  { path: '/inbox', component: () => import('./shared/InboxPage.vue'), meta: { any: true, title: '消息' } },
  { path: '/:rest(.*)*', redirect: '/home' },
]

export const router = createRouter({ history: createWebHashHistory(), routes })

router.beforeEach(async (to) => {
  const session = useSession()
  if (!session.checked) await session.load()
  if (to.meta.public) return session.user && to.path === '/login' ? '/home' : true
  if (!session.user) return { path: '/login', query: { next: to.fullPath } }
  const area = to.meta.area as string | undefined
  if (area && area !== session.area) return '/home'
  // a member the community has not accepted sees the status page and nothing to act on
  if (session.area === 'member' && !session.accepted && !to.meta.any) return '/m/status'
  return true
})

router.afterEach((to) => {
  document.title = `${(to.meta.title as string) || '社区服务'} · 在职党员进社区`
})
