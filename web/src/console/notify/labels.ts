// Chinese names of the notification codes, and each channel's settings (mirrors
// services/notify/domain.py CHANNEL_CONFIG: required, optional and secret keys).
export const CHANNELS: Record<string, string> = {
  sms: '短信',
  email: '邮件',
  wecom: '企业微信群机器人',
  dingtalk: '钉钉群机器人',
  webhook: 'Webhook（其他系统）',
  inbox: '站内信',
  render: '模板渲染',
}

export const DELIVERY_STATUS: Record<string, string> = {
  dead: '投递失败',
  retry: '等待重试',
  pending: '待发送',
  digest: '待每日汇总',
  sent: '已发送',
  cancelled: '已取消',
}

export interface ConfigField { key: string; label: string; required: boolean; secret: boolean; hint?: string }

export const CHANNEL_FIELDS: Record<string, ConfigField[]> = {
  sms: [
    { key: 'url', label: '短信网关地址', required: true, secret: false, hint: 'http:// 或 https:// 开头' },
    { key: 'api_key', label: '接口密钥', required: false, secret: true },
    { key: 'sign_name', label: '短信签名', required: false, secret: false },
  ],
  email: [
    { key: 'host', label: '邮件服务器', required: true, secret: false },
    { key: 'port', label: '端口', required: true, secret: false, hint: '如 465 或 587' },
    { key: 'sender', label: '发件人地址', required: true, secret: false },
    { key: 'username', label: '用户名', required: false, secret: false },
    { key: 'password', label: '密码', required: false, secret: true },
  ],
  wecom: [{ key: 'url', label: '机器人地址', required: true, secret: true, hint: '群设置 → 群机器人 → 复制 Webhook 地址' }],
  dingtalk: [
    { key: 'url', label: '机器人地址', required: true, secret: true },
    { key: 'secret', label: '加签密钥', required: false, secret: true },
  ],
  webhook: [
    { key: 'url', label: '接收地址', required: true, secret: false, hint: '对方系统提供的 http(s) 地址' },
    { key: 'secret', label: '签名密钥', required: true, secret: true, hint: '与对方约定，用于校验签名' },
  ],
}

export const SETTABLE = ['sms', 'email', 'wecom', 'dingtalk', 'webhook'] as const
export type Settable = (typeof SETTABLE)[number]

// The template preview's fields, by the placeholder names the notify service's templates use.
export const TEMPLATE_FIELDS: Record<string, string> = {
  title: '标题（事项名称）',
  starts_at: '开始时间',
  reason: '原因',
  kind: '类别',
  place: '地点',
  period: '季度',
  total_points: '总积分',
  target: '对象',
  stage_label: '阶段',
  resolution: '办理结果',
  report_url: '报告链接',
  rating: '评价星级',
  members: '党员人数',
  level_label: '级别',
  due_label: '截止时间',
  body: '正文',
}

export const templateField = (key: string) => TEMPLATE_FIELDS[key] ?? key
