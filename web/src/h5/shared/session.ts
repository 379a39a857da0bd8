// Who is signed in, and for a member whether the community has accepted the registration yet.
import { defineStore } from 'pinia'
import { api } from './api'
import type { Member, Principal } from './types'

export type Area = 'resident' | 'member' | 'other'

export const useSession = defineStore('h5-session', {
  state: () => ({ user: null as Principal | null, member: null as Member | null, checked: false }),
  getters: {
    area(state): Area {
      const role = state.user?.role
      if (role === 'resident') return 'resident'
      // an "applicant" is a member whose registration is not (or no longer) accepted
      if (role === 'member' || role === 'grid_leader' || role === 'applicant') return 'member'
      return 'other'
    },
    accepted(state): boolean {
      return state.user?.role !== 'applicant' && state.member?.status === 'accepted'
    },
  },
  actions: {
    async load() {
      try {
        this.user = await api.get<Principal>('/api/auth/me')
        if (this.area === 'member') await this.loadMember()
      } catch {
        this.user = null
      }
      this.checked = true
    },
    async loadMember() {
      if (!this.user?.user_id) return
      this.member = await api.get<Member>(`/api/members/${this.user.user_id}`)
    },
    async login(username: string, password: string) {
      const result = await api.post<{ user: Principal }>('/api/auth/login', { username, password })
      this.user = result.user
      this.member = null
      if (this.area === 'member') await this.loadMember()
      this.checked = true
    },
    async logout() {
      try {
        await api.post('/api/auth/logout', {})
      } finally {
        this.user = null
        this.member = null
      }
    },
  },
})
