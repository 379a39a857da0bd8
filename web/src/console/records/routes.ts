// The volunteer record's console screens (#16): hours confirmation, trainings, awards,
// complaints, certificates and exports. Spread into ../routes.ts.
import type { RouteRecordRaw } from 'vue-router'

const STAFF = ['community_staff']

export const recordsRoutes: RouteRecordRaw[] = [
  { path: 'records/queue', name: 'records-queue', component: () => import('./ConfirmQueue.vue'),
    meta: { title: '服务时长确认', roles: STAFF } },
  { path: 'records/trainings', name: 'records-trainings', component: () => import('./TrainingsView.vue'),
    meta: { title: '培训与表彰', roles: STAFF } },
  { path: 'records/complaints', name: 'records-complaints', component: () => import('./ComplaintsView.vue'),
    meta: { title: '被投诉信息', roles: STAFF } },
  { path: 'records/certificates', name: 'records-certificates', component: () => import('./CertificatesView.vue'),
    meta: { title: '志愿服务证明', roles: STAFF } },
]

export const recordsMenu = [
  { path: '/records/queue', title: '服务时长确认' },
  { path: '/records/trainings', title: '培训与表彰' },
  { path: '/records/complaints', title: '被投诉信息' },
  { path: '/records/certificates', title: '志愿服务证明' },
]
