"""Notifications: the in-app inbox, personal preferences, templates, channels, notices, deliveries."""

from gateway.http import route
from services.notify import schemas


class NotificationRoutes:
    @route("GET", "/api/inbox", tag="notifications", summary="我的站内消息（新的在前，按 before_id 翻页）",
           query=schemas.InboxQuery, response=schemas.Inbox)
    def inbox(self, call):
        return self.notify.inbox(call.actor, {k: v for k, v in call.query.items() if v is not None})

    @route("POST", "/api/inbox/{message_id}/read", tag="notifications", summary="标记消息已读",
           response=schemas.Message)
    def mark_read(self, call, message_id):
        return self.notify.mark_read(call.actor, message_id)

    @route("POST", "/api/inbox/read-all", tag="notifications", summary="全部标记已读", response=schemas.ReadAll)
    def mark_all_read(self, call):
        return self.notify.mark_all_read(call.actor)

    @route("GET", "/api/notification-preferences", tag="notifications", summary="我的通知设置",
           response=schemas.PreferencesView)
    def preferences(self, call):
        return self.notify.preferences(call.actor)

    @route("PUT", "/api/notification-preferences", tag="notifications",
           summary="修改我的通知设置（渠道、退订、免打扰时段、每日汇总）", body=schemas.Preferences,
           response=schemas.PreferencesView,
           description="紧急消息（活动提醒、候补转正、活动取消、上报督办）不能退订，也不受免打扰限制。")
    def set_preferences(self, call):
        return self.notify.set_preferences(call.actor, call.body)

    @route("GET", "/api/notification-templates", tag="notifications", summary="消息模板及所需字段",
           response=schemas.Template(many=True))
    def templates(self, call):
        return self.notify.list_templates(call.actor)

    @route("POST", "/api/notification-templates/preview", tag="notifications", summary="预览消息模板",
           body=schemas.PreviewIn, response=schemas.Preview)
    def preview_template(self, call):
        return self.notify.preview_template(call.actor, call.body)

    @route("GET", "/api/notification-channels", tag="notifications",
           summary="社区的通知渠道设置（短信、邮件、群机器人、Webhook；密钥已隐藏）", query=schemas.ChannelQuery,
           response=schemas.ChannelSetting(many=True))
    def channels(self, call):
        return self.notify.list_channels(call.actor, call.query)

    @route("PUT", "/api/notification-channels", tag="notifications", summary="设置社区的一个通知渠道",
           body=schemas.ChannelSettingIn, response=schemas.ChannelSetting)
    def set_channel(self, call):
        return self.notify.set_channel(call.actor, call.body, idempotency_key=call.idempotency_key)

    @route("POST", "/api/notices", tag="notifications", summary="发布工作通知（如通知全街道党员）",
           body=schemas.BroadcastIn, response=schemas.NoticeView, status=202,
           description="立即返回；收件人由后台分批写入。带 Idempotency-Key 重试不会重复发送。")
    def broadcast(self, call):
        return self.notify.broadcast(call.actor, call.body, idempotency_key=call.idempotency_key)

    @route("GET", "/api/notices/{notice_id}", tag="notifications", summary="通知的发送进度",
           response=schemas.NoticeView)
    def notice(self, call, notice_id):
        return self.notify.get_notice(call.actor, notice_id)

    @route("GET", "/api/notification-deliveries", tag="notifications",
           summary="投递记录（status=dead 查看最终失败的投递及原因）", query=schemas.DeliveryQuery,
           response=schemas.Delivery(many=True))
    def deliveries(self, call):
        return self.notify.list_deliveries(call.actor, call.query)

    @route("GET", "/api/notification-deliveries/{delivery_id}", tag="notifications", summary="一条投递的状态",
           response=schemas.Delivery)
    def delivery(self, call, delivery_id):
        return self.notify.get_delivery(call.actor, delivery_id)

    @route("POST", "/api/notification-deliveries/{delivery_id}/retry", tag="notifications",
           summary="重发一条最终失败的投递", response=schemas.Delivery)
    def retry_delivery(self, call, delivery_id):
        return self.notify.retry_delivery(call.actor, delivery_id, idempotency_key=call.idempotency_key)
