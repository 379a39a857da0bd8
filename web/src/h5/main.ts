// The resident/member H5 entry (its pages belong to #13). It shares the API client, the
// session store and the polling helper with the console: import from '@/api', '@/stores',
// '@/live/polling', '@/shared'.
import { createApp } from 'vue'
import { createPinia } from 'pinia'
import '@/shared/base.css'
import App from './App.vue'

createApp(App).use(createPinia()).mount('#app')
