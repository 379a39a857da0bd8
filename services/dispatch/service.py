"""Dispatch service entrypoints: 居民点单、支部下单、党员接单, micro-wishes and opinions.

Every mutating RPC takes ``idempotency_key=None``: a retry with the same key returns the first
result without acting twice.
"""

from nameko.rpc import RpcProxy

from common.db import Database
from common.service import ServiceBase, rpc
from services.dispatch import usecases
from services.dispatch.models import Base


class DispatchService(ServiceBase):
    name = "dispatch"
    db = Database(Base.metadata)
    registration = RpcProxy("registration")

    def timer_handlers(self):
        return usecases.TIMER_HANDLERS

    # ---- menus, needs, policy ----
    @rpc
    def list_menu(self, community_id):
        return usecases.list_menu(self.db, community_id)

    @rpc
    def create_menu_item(self, actor, community_id, payload, idempotency_key=None):
        return usecases.create_menu_item(self.db, self.registration, actor, community_id, payload,
                                         idempotency_key)

    @rpc
    def update_menu_item(self, actor, menu_item_id, payload, idempotency_key=None):
        return usecases.update_menu_item(self.db, self.registration, actor, menu_item_id, payload,
                                         idempotency_key)

    @rpc
    def get_policy(self, community_id):
        return usecases.get_policy(self.db, community_id)

    @rpc
    def set_policy(self, actor, community_id, payload, idempotency_key=None):
        return usecases.set_policy(self.db, self.registration, actor, community_id, payload, idempotency_key)

    @rpc
    def post_need(self, actor, community_id, payload, idempotency_key=None):
        return usecases.post_need(self.db, self.registration, actor, community_id, payload, idempotency_key)

    @rpc
    def list_needs(self, actor, community_id):
        return usecases.list_needs(self.db, actor, community_id)

    # ---- requests: reading ----
    @rpc
    def submit_request(self, actor, payload, idempotency_key=None):
        return usecases.submit_request(self.db, self.registration, actor, payload, idempotency_key)

    @rpc
    def get_request(self, actor, request_id):
        return usecases.get_request(self.db, actor, request_id)

    @rpc
    def timeline(self, actor, request_id):
        return usecases.timeline(self.db, actor, request_id)

    @rpc
    def list_my_requests(self, actor):
        return usecases.list_my_requests(self.db, actor)

    @rpc
    def search_requests(self, actor, query):
        return usecases.search_requests(self.db, actor, query)

    @rpc
    def escalation_queue(self, actor):
        return usecases.escalation_queue(self.db, actor)

    @rpc
    def candidates(self, actor, request_id, limit=20):
        return usecases.candidates(self.db, self.registration, actor, request_id, limit)

    # ---- requests: commands ----
    @rpc
    def accept(self, actor, request_id, payload=None, idempotency_key=None):
        return usecases.accept(self.db, self.registration, actor, request_id, payload, idempotency_key)

    @rpc
    def reject(self, actor, request_id, payload, idempotency_key=None):
        return usecases.reject(self.db, actor, request_id, payload, idempotency_key)

    @rpc
    def merge(self, actor, request_id, payload, idempotency_key=None):
        return usecases.merge(self.db, actor, request_id, payload, idempotency_key)

    @rpc
    def offer(self, actor, request_id, payload, idempotency_key=None):
        return usecases.offer(self.db, actor, request_id, payload, idempotency_key)

    @rpc
    def claim(self, actor, request_id, idempotency_key=None):
        return usecases.claim(self.db, actor, request_id, idempotency_key)

    @rpc
    def decline(self, actor, request_id, payload=None, idempotency_key=None):
        return usecases.decline(self.db, actor, request_id, payload, idempotency_key)

    @rpc
    def hand_back(self, actor, request_id, payload, idempotency_key=None):
        return usecases.hand_back(self.db, actor, request_id, payload, idempotency_key)

    @rpc
    def reassign(self, actor, request_id, payload, idempotency_key=None):
        return usecases.reassign(self.db, actor, request_id, payload, idempotency_key)

    @rpc
    def start(self, actor, request_id, idempotency_key=None):
        return usecases.start(self.db, actor, request_id, idempotency_key)

    @rpc
    def complete(self, actor, request_id, payload=None, idempotency_key=None):
        return usecases.complete(self.db, actor, request_id, payload, idempotency_key)

    @rpc
    def confirm(self, actor, request_id, payload, idempotency_key=None):
        return usecases.confirm(self.db, actor, request_id, payload, idempotency_key)

    @rpc
    def cancel(self, actor, request_id, payload=None, idempotency_key=None):
        return usecases.cancel(self.db, actor, request_id, payload, idempotency_key)

    @rpc
    def escalate(self, actor, request_id, payload, idempotency_key=None):
        return usecases.escalate(self.db, actor, request_id, payload, idempotency_key)

    @rpc
    def send_down(self, actor, request_id, payload, idempotency_key=None):
        return usecases.send_down(self.db, actor, request_id, payload, idempotency_key)

    @rpc
    def joint_meeting(self, actor, request_id, payload, idempotency_key=None):
        return usecases.joint_meeting(self.db, actor, request_id, payload, idempotency_key)

    # ---- micro-wishes ----
    @rpc
    def post_wish(self, actor, payload, idempotency_key=None):
        return usecases.post_wish(self.db, actor, payload, idempotency_key)

    @rpc
    def claim_wish(self, actor, wish_id, payload=None, idempotency_key=None):
        return usecases.claim_wish(self.db, actor, wish_id, payload, idempotency_key)

    @rpc
    def fulfil_wish(self, actor, wish_id, payload, idempotency_key=None):
        return usecases.fulfil_wish(self.db, actor, wish_id, payload, idempotency_key)

    @rpc
    def confirm_wish(self, actor, wish_id, payload=None, idempotency_key=None):
        return usecases.confirm_wish(self.db, actor, wish_id, payload, idempotency_key)

    @rpc
    def get_wish(self, actor, wish_id):
        return usecases.get_wish(self.db, actor, wish_id)

    @rpc
    def list_wishes(self, actor, query=None):
        return usecases.list_wishes(self.db, actor, query or {})

    # ---- opinions ----
    @rpc
    def submit_opinion(self, actor, payload, idempotency_key=None):
        return usecases.submit_opinion(self.db, self.registration, actor, payload, idempotency_key)

    @rpc
    def assign_opinion(self, actor, opinion_id, payload, idempotency_key=None):
        return usecases.assign_opinion(self.db, actor, opinion_id, payload, idempotency_key)

    @rpc
    def resolve_opinion(self, actor, opinion_id, payload, idempotency_key=None):
        return usecases.resolve_opinion(self.db, actor, opinion_id, payload, idempotency_key)

    @rpc
    def get_opinion(self, actor, opinion_id):
        return usecases.get_opinion(self.db, actor, opinion_id)

    @rpc
    def list_opinions(self, actor, query=None):
        return usecases.list_opinions(self.db, actor, query or {})

    @rpc
    def opinion_stats(self, actor, query=None):
        return usecases.opinion_stats(self.db, actor, query or {})
