// The roster upload: XMLHttpRequest rather than fetch, because only it reports upload progress.
import { CSRF_COOKIE, CSRF_HEADER, readCookie } from '@/api/client'
import { ApiError } from '@/api'
import type { Schema } from '@/api'

export type RosterResult = Schema<'RegistrationRosterResult'>
export interface RowError { row?: number; reason?: string }
/** The answer of an import: counts when written, or the rows that stopped it (nothing written). */
export type Outcome =
  | { ok: true; result: RosterResult }
  | { ok: false; message: string; importId: number; errorsUrl: string; errors: RowError[] }

export function uploadRoster(file: File, onProgress: (percent: number) => void): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest()
    xhr.open('POST', `/api/roster/import?filename=${encodeURIComponent(file.name)}`)
    xhr.withCredentials = true
    xhr.setRequestHeader(CSRF_HEADER, readCookie(CSRF_COOKIE))
    xhr.setRequestHeader('Content-Type', 'application/octet-stream')
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(Math.round((e.loaded / e.total) * 100)) }
    xhr.onerror = () => reject(new ApiError(0, 'NETWORK_ERROR', '网络连接失败，请检查网络后重试'))
    xhr.onload = () => {
      let body: unknown
      try { body = JSON.parse(xhr.responseText) } catch { body = undefined }
      const error = (body as { error?: { code?: string; message?: string; errors?: RowError[]; errors_url?: string; import_id?: number } })?.error
      if (xhr.status === 201) resolve({ ok: true, result: body as RosterResult })
      else if (xhr.status === 422 && error?.code === 'ROSTER_HAS_ERRORS') {
        resolve({ ok: false, message: error.message ?? '名册有错误，整表未导入', importId: error.import_id ?? 0,
          errorsUrl: error.errors_url ?? '', errors: error.errors ?? [] })
      } else reject(ApiError.from(xhr.status, body))
    }
    xhr.send(file)
  })
}

// the columns the gateway reads (services/registration/roster.py), required first
export const COLUMNS: { name: string; required: boolean; hint: string }[] = [
  { name: '姓名', required: true, hint: '如 张伟' },
  { name: '手机号码', required: true, hint: '11位，作为登录账号' },
  { name: '身份证号码', required: true, hint: '18位，用于识别同一党员' },
  { name: '所在社区', required: true, hint: '社区名称，如 东风社区' },
  { name: '工作单位', required: false, hint: '单位全称' },
  { name: '单位党组织', required: false, hint: '' },
  { name: '网格', required: false, hint: '本社区的网格名称' },
  { name: '楼栋', required: false, hint: '该网格的楼栋名称' },
  { name: '特长', required: false, hint: '多个用“、”分隔，如 法律、医疗' },
  { name: '服务岗位', required: false, hint: '本社区的岗位名称，多个用“、”分隔' },
  { name: '空闲时间', required: false, hint: '可填：工作日晚上、周末白天、周末晚上、周末全天、工作日午间' },
  { name: '承诺', required: false, hint: '本年度承诺事项' },
]

/** A CSV with the header row and one example line, UTF-8 with BOM so Excel shows the Chinese. */
export function templateCsv(): string {
  const example = ['张伟', '13800000000', '440000199001011234', '东风社区', '某律师事务所', '', '', '', '法律', '', '周末白天', '']
  return '\ufeff' + COLUMNS.map((c) => c.name).join(',') + '\r\n' + example.join(',') + '\r\n'
}
