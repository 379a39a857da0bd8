import { describe, expect, it } from 'vitest'
import { ApiError, flattenFields } from './errors'
import { filenameOf, readCookie } from './client'

describe('API errors', () => {
  it('keeps the Chinese message and puts each field message beside its field', () => {
    const err = ApiError.from(400, { error: { code: 'VALIDATION_ERROR', message: '提交的内容有误', fields: { name: ['不能为空'], fields: { topic: ['请选择'] } } } })
    expect(err.code).toBe('VALIDATION_ERROR')
    expect(err.message).toBe('提交的内容有误')
    expect(err.fields).toEqual({ name: '不能为空', 'fields.topic': '请选择' })
  })
  it('never shows a raw body for an unknown failure', () => {
    expect(ApiError.from(502, '<html>').message).toBe('服务暂时不可用，请稍后重试')
  })
  it('flattens nested and list messages', () => {
    expect(flattenFields({ a: ['一', '二'], b: { 0: { c: ['三'] } } })).toEqual({ a: '一；二', 'b.0.c': '三' })
  })
})

describe('client helpers', () => {
  it('reads the CSRF cookie', () => {
    expect(readCookie('baodao_csrf', 'x=1; baodao_csrf=abc%3D; y=2')).toBe('abc=')
    expect(readCookie('baodao_csrf', 'x=1')).toBe('')
  })
  it('takes the file name the server gives', () => {
    expect(filenameOf("attachment; filename*=UTF-8''%E5%AD%A3%E5%BA%A6.xlsx")).toBe('季度.xlsx')
    expect(filenameOf('attachment; filename="q.csv"')).toBe('q.csv')
  })
})
