// Component tests render with Element Plus registered, as the app does, and real transitions
// (Element Plus shows a field's error message inside one).
import { config } from '@vue/test-utils'
import ElementPlus from 'element-plus'

config.global.plugins = [ElementPlus]
config.global.stubs = { transition: false, 'transition-group': false }
