"""The in-app inbox."""

from gateway.http import ANYONE, route
from services.notify import schemas


class NotificationRoutes:
    @route("GET", "/api/inbox", tag="notifications", summary="我的站内消息", roles=ANYONE,
           response=schemas.Inbox)
    def inbox(self, call):
        return self.notify.inbox(call.actor)

    @route("POST", "/api/inbox/{message_id}/read", tag="notifications", summary="标记消息已读",
           roles=ANYONE, response=schemas.Message)
    def mark_read(self, call, message_id):
        return self.notify.mark_read(call.actor, message_id)
