// A short message for the person, read out by screen readers (a polite live region) — Vant's
// toast renders an unnamed dialog instead.
let region: HTMLElement | null = null
let timer: number | undefined

export function showToast(message: string | { message: string; duration?: number }) {
  const text = typeof message === 'string' ? message : message.message
  const duration = typeof message === 'string' ? 2000 : message.duration ?? 2000
  if (!region) {
    region = document.createElement('div')
    region.className = 'h5-toast'
    region.setAttribute('role', 'status')
    region.setAttribute('aria-live', 'polite')
    document.body.appendChild(region)
  }
  region.textContent = text
  region.classList.add('shown')
  window.clearTimeout(timer)
  timer = window.setTimeout(() => region?.classList.remove('shown'), duration)
}

export function hideToast() {
  window.clearTimeout(timer)
  region?.classList.remove('shown')
}
