// The resident and member H5 (Vant 4), served at /h5/.
import { createApp } from 'vue'
import { createPinia } from 'pinia'
import 'vant/lib/index.css'
import './theme.css'
import { onUnauthorized } from '@/api'
import { useSession } from '@/stores/session'
import App from './App.vue'
import { router } from './router'

const app = createApp(App).use(createPinia()).use(router)
// a session that expired mid-use: back to sign-in, then where the person was
onUnauthorized(() => {
  useSession().expired()
  if (router.currentRoute.value.path !== '/login') {
    router.replace({ path: '/login', query: { next: router.currentRoute.value.fullPath } })
  }
})
app.mount('#app')
