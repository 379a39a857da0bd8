"""Notify service entrypoints: every message to people, starting with the in-app inbox."""


from common.db import Database
from common.messaging import consumes
from common.service import ServiceBase, rpc
from services.notify import usecases
from services.notify.models import Base


class NotifyService(ServiceBase):
    name = "notify"
    db = Database(Base.metadata)

    @consumes("dispatch", "request.offered")
    def on_request_offered(self, uow, event):
        usecases.deliver_to_inbox(uow, event)

    @consumes("dispatch", "request.completed")
    def on_request_completed(self, uow, event):
        usecases.deliver_to_inbox(uow, event)

    @rpc
    def inbox(self, actor):
        return usecases.inbox(self.db, actor)

    @rpc
    def mark_read(self, actor, message_id):
        return usecases.mark_read(self.db, actor, message_id)
