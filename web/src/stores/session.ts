// Who is signed in. The token itself lives only in the HttpOnly cookie; the page knows the
// principal (name, role, scope) from the sign-in answer or /api/auth/me.
import { defineStore } from 'pinia'
import { api, client, type Schema } from '@/api'

export type Principal = Schema<'RegistrationPrincipal'>

export const useSession = defineStore('session', {
  state: () => ({ user: null as Principal | null, checked: false }),
  getters: {
    role: (state) => state.user?.role ?? '',
    signedIn: (state) => state.user !== null,
  },
  actions: {
    async load(): Promise<Principal | null> {
      if (this.checked) return this.user
      try {
        this.user = await api(client.GET('/api/auth/me'))
      } catch {
        this.user = null
      }
      this.checked = true
      return this.user
    },
    async signIn(username: string, password: string): Promise<Principal> {
      const result = await api(client.POST('/api/auth/session', { body: { username, password } }))
      this.user = result.user ?? null
      this.checked = true
      return this.user as Principal
    },
    async signOut() {
      try {
        await api(client.DELETE('/api/auth/session'))
      } finally {
        this.user = null
      }
    },
    expired() {
      this.user = null
    },
  },
})
