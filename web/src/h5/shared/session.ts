// Who is signed in (the shared session store of web/src/stores) and, for a member, whether the
// community has accepted the registration yet.
import { defineStore } from 'pinia'
import { useSession as useSharedSession } from '@/stores/session'
import { api } from './api'
import type { Member, Principal } from './types'

export type Area = 'resident' | 'member' | 'other'

export const useSession = defineStore('h5-session', {
  state: () => ({ member: null as Member | null }),
  getters: {
    user(): Principal | null {
      return useSharedSession().user
    },
    checked(): boolean {
      return useSharedSession().checked
    },
    area(): Area {
      const role = this.user?.role
      if (role === 'resident') return 'resident'
      // an "applicant" is a member whose registration is not (or no longer) accepted
      if (role === 'member' || role === 'grid_leader' || role === 'applicant') return 'member'
      return 'other'
    },
    accepted(): boolean {
      return this.user?.role !== 'applicant' && this.member?.status === 'accepted'
    },
  },
  actions: {
    async load() {
      await useSharedSession().load()
      if (this.area === 'member' && !this.member) await this.loadMember().catch(() => undefined)
    },
    async loadMember() {
      if (!this.user?.user_id) return
      this.member = await api.get<Member>(`/api/members/${this.user.user_id}`)
    },
    async login(username: string, password: string) {
      await useSharedSession().signIn(username, password)
      this.member = null
      if (this.area === 'member') await this.loadMember().catch(() => undefined)
    },
    async logout() {
      try {
        await useSharedSession().signOut()
      } finally {
        this.member = null
      }
    },
  },
})
