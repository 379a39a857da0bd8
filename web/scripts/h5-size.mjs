// The H5's first screen on a slow phone: the JavaScript and CSS that opening /h5/ loads before
// anything shows — index.html's entry script, its preloaded chunks and stylesheets, and the
// first route (sign-in) with what it imports — measured gzipped. Fails the build above 300 KB.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { gzipSync } from 'node:zlib'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

const LIMIT_KB = 300
const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const outDir = process.argv[2] || join(root, 'dist')
// every built file by its (hashed, unique) name, wherever the build put it
const byName = new Map()
const walk = (dir) => {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) walk(join(dir, entry.name))
    else byName.set(entry.name, join(dir, entry.name))
  }
}
walk(outDir)
const html = readFileSync(byName.has('index.html') && existsSync(join(outDir, 'h5', 'index.html'))
  ? join(outDir, 'h5', 'index.html') : join(outDir, 'h5.html'), 'utf8')
const files = new Set()
const add = (url) => files.add(url.split('/').pop())
for (const m of html.matchAll(/<(?:script[^>]+src|link[^>]+href)="([^"]+\.(?:js|css))"/g)) add(m[1])

// the sign-in route, loaded lazily right after the entry: follow its static imports
const manifestPath = [join(outDir, '.vite', 'manifest.json'), join(outDir, 'manifest.json')].find(existsSync)
if (manifestPath) {
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'))
  const visit = (key) => {
    const chunk = manifest[key]
    if (!chunk || files.has(chunk.file.split('/').pop())) return
    add(chunk.file)
    for (const css of chunk.css ?? []) add(css)
    for (const dep of chunk.imports ?? []) visit(dep)
  }
  for (const key of Object.keys(manifest)) if (/h5\/shared\/LoginPage\.vue$/.test(key)) visit(key)
}

let total = 0
const rows = []
for (const url of files) {
  const found = byName.get(url)
  if (!found) throw new Error(`built file not found: ${url}`)
  const size = gzipSync(readFileSync(found), { level: 9 }).length
  total += size
  rows.push(`  ${(size / 1024).toFixed(1).padStart(7)} KB  ${url}`)
}
console.log(`H5 first screen (JS + CSS, gzipped): ${(total / 1024).toFixed(1)} KB of ${LIMIT_KB} KB allowed`)
console.log(rows.join('\n'))
if (total > LIMIT_KB * 1024) {
  console.error(`H5 首屏资源超过 ${LIMIT_KB} KB（gzip 后 ${(total / 1024).toFixed(1)} KB），请按路由拆分或按需引入组件`)
  process.exit(1)
}
