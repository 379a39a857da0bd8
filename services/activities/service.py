"""Activities service entrypoints: volunteer activities and themed Party days (志愿活动, 主题党日)."""

from nameko.rpc import RpcProxy

from common.db import Database
from common.service import ServiceBase, rpc
from services.activities import usecases
from services.activities.models import Base


class ActivitiesService(ServiceBase):
    name = "activities"
    db = Database(Base.metadata)
    registration = RpcProxy("registration")

    def timer_handlers(self) -> dict:
        return {usecases.REMINDER: usecases.on_reminder_timer, usecases.CLOSE: usecases.on_close_timer}

    @rpc
    def publish(self, actor, payload, idempotency_key=None):
        return usecases.publish(self.db, self.registration, actor, payload, idempotency_key)

    @rpc
    def edit(self, actor, activity_id, payload):
        return usecases.edit(self.db, actor, activity_id, payload)

    @rpc
    def cancel(self, actor, activity_id, payload):
        return usecases.cancel_activity(self.db, actor, activity_id, payload)

    @rpc
    def get_activity(self, actor, activity_id):
        return usecases.get_activity(self.db, actor, activity_id)

    @rpc
    def list_activities(self, actor, query=None):
        return usecases.list_activities(self.db, actor, query or {})

    @rpc
    def sign_up(self, actor, activity_id):
        return usecases.sign_up(self.db, actor, activity_id)

    @rpc
    def withdraw(self, actor, activity_id):
        return usecases.withdraw(self.db, actor, activity_id)

    @rpc
    def my_signups(self, actor):
        return usecases.my_signups(self.db, actor)

    @rpc
    def signups(self, actor, activity_id):
        return usecases.signups(self.db, actor, activity_id)

    @rpc
    def current_code(self, actor, activity_id):
        return usecases.current_code(self.db, actor, activity_id)

    @rpc
    def check_in(self, actor, activity_id, payload):
        return usecases.check_in(self.db, actor, activity_id, payload)

    @rpc
    def check_out(self, actor, activity_id, payload):
        return usecases.check_out(self.db, actor, activity_id, payload)

    @rpc
    def mark(self, actor, activity_id, payload):
        return usecases.mark(self.db, actor, activity_id, payload)

    @rpc
    def close_attendance(self, actor, activity_id):
        return usecases.close_attendance(self.db, actor, activity_id)

    @rpc
    def report(self, actor, activity_id):
        return usecases.report(self.db, actor, activity_id)

    @rpc
    def community_stats(self, actor, community_id, query):
        return usecases.community_stats(self.db, self.registration, actor, community_id, query)
