"""Dispatch service entrypoints: 居民点单、支部下单、党员接单, micro-wishes and opinions.

Every mutating RPC takes ``idempotency_key=None``: a retry with the same key returns the first
result without acting twice.
"""

from nameko.rpc import RpcProxy

from common.db import Database
from common.service import ServiceBase, rpc
from services.dispatch.models import Base
from services.dispatch.usecases import (
    deadlines,
    escalation,
    lifecycle,
    matching,
    menu,
    opinions,
    policy,
    requests,
    wishes,
)


class DispatchService(ServiceBase):
    name = "dispatch"
    db = Database(Base.metadata)
    registration = RpcProxy("registration")

    def timer_handlers(self):
        return deadlines.TIMER_HANDLERS

    # ---- menus, needs, policy ----
    @rpc(public=True)
    def list_menu(self, community_id):
        return menu.list_menu(self.db, community_id)

    @rpc
    def create_menu_item(self, actor, community_id, payload, idempotency_key=None):
        return menu.create_menu_item(self.db, self.registration, actor, community_id, payload, idempotency_key)

    @rpc
    def update_menu_item(self, actor, menu_item_id, payload, idempotency_key=None):
        return menu.update_menu_item(self.db, self.registration, actor, menu_item_id, payload, idempotency_key)

    @rpc
    def get_policy(self, actor, community_id):
        return policy.get_policy(self.db, self.registration, actor, community_id)

    @rpc
    def set_policy(self, actor, community_id, payload, idempotency_key=None):
        return policy.set_policy(self.db, self.registration, actor, community_id, payload, idempotency_key)

    @rpc
    def post_need(self, actor, community_id, payload, idempotency_key=None):
        return menu.post_need(self.db, self.registration, actor, community_id, payload, idempotency_key)

    @rpc
    def list_needs(self, actor, community_id):
        return menu.list_needs(self.db, actor, community_id)

    # ---- requests: reading ----
    @rpc
    def submit_request(self, actor, payload, idempotency_key=None):
        return requests.submit_request(self.db, self.registration, actor, payload, idempotency_key)

    @rpc
    def get_request(self, actor, request_id):
        return requests.get_request(self.db, actor, request_id, self.registration)

    @rpc
    def timeline(self, actor, request_id):
        return requests.timeline(self.db, actor, request_id, self.registration)

    @rpc
    def list_my_requests(self, actor):
        return requests.list_my_requests(self.db, actor)

    @rpc
    def list_open_requests(self, actor):
        return requests.list_open_requests(self.db, actor)

    @rpc
    def search_requests(self, actor, query):
        return requests.search_requests(self.db, actor, query)

    @rpc
    def escalation_queue(self, actor):
        return escalation.escalation_queue(self.db, actor)

    @rpc
    def candidates(self, actor, request_id, limit=20):
        return matching.candidates(self.db, self.registration, actor, request_id, limit)

    # ---- requests: commands ----
    @rpc
    def accept(self, actor, request_id, payload=None, idempotency_key=None):
        return lifecycle.accept(self.db, self.registration, actor, request_id, payload, idempotency_key)

    @rpc
    def reject(self, actor, request_id, payload, idempotency_key=None):
        return lifecycle.reject(self.db, actor, request_id, payload, idempotency_key)

    @rpc
    def merge(self, actor, request_id, payload, idempotency_key=None):
        return lifecycle.merge(self.db, actor, request_id, payload, idempotency_key)

    @rpc
    def offer(self, actor, request_id, payload, idempotency_key=None):
        return lifecycle.offer(self.db, actor, request_id, payload, idempotency_key, registration=self.registration)

    @rpc
    def claim(self, actor, request_id, idempotency_key=None):
        return lifecycle.claim(self.db, actor, request_id, idempotency_key)

    @rpc
    def decline(self, actor, request_id, payload=None, idempotency_key=None):
        return lifecycle.decline(self.db, actor, request_id, payload, idempotency_key)

    @rpc
    def hand_back(self, actor, request_id, payload, idempotency_key=None):
        return lifecycle.hand_back(self.db, actor, request_id, payload, idempotency_key)

    @rpc
    def reassign(self, actor, request_id, payload, idempotency_key=None):
        return lifecycle.reassign(self.db, actor, request_id, payload, idempotency_key,
                                  registration=self.registration)

    @rpc
    def start(self, actor, request_id, idempotency_key=None):
        return lifecycle.start(self.db, actor, request_id, idempotency_key)

    @rpc
    def complete(self, actor, request_id, payload=None, idempotency_key=None):
        return lifecycle.complete(self.db, actor, request_id, payload, idempotency_key)

    @rpc
    def confirm(self, actor, request_id, payload, idempotency_key=None):
        return lifecycle.confirm(self.db, actor, request_id, payload, idempotency_key)

    @rpc
    def cancel(self, actor, request_id, payload=None, idempotency_key=None):
        return lifecycle.cancel(self.db, actor, request_id, payload, idempotency_key)

    @rpc
    def escalate(self, actor, request_id, payload, idempotency_key=None):
        return escalation.escalate(self.db, actor, request_id, payload, idempotency_key)

    @rpc
    def send_down(self, actor, request_id, payload, idempotency_key=None):
        return escalation.send_down(self.db, actor, request_id, payload, idempotency_key)

    @rpc
    def joint_meeting(self, actor, request_id, payload, idempotency_key=None):
        return escalation.joint_meeting(self.db, self.registration, actor, request_id, payload, idempotency_key)

    # ---- micro-wishes ----
    @rpc
    def post_wish(self, actor, payload, idempotency_key=None):
        return wishes.post_wish(self.db, actor, payload, idempotency_key)

    @rpc
    def claim_wish(self, actor, wish_id, payload=None, idempotency_key=None):
        return wishes.claim_wish(self.db, actor, wish_id, payload, idempotency_key)

    @rpc
    def fulfil_wish(self, actor, wish_id, payload, idempotency_key=None):
        return wishes.fulfil_wish(self.db, actor, wish_id, payload, idempotency_key)

    @rpc
    def confirm_wish(self, actor, wish_id, payload=None, idempotency_key=None):
        return wishes.confirm_wish(self.db, actor, wish_id, payload, idempotency_key)

    @rpc
    def get_wish(self, actor, wish_id):
        return wishes.get_wish(self.db, self.registration, actor, wish_id)

    @rpc
    def list_wishes(self, actor, query=None):
        return wishes.list_wishes(self.db, self.registration, actor, query or {})

    # ---- opinions ----
    @rpc
    def submit_opinion(self, actor, payload, idempotency_key=None):
        return opinions.submit_opinion(self.db, self.registration, actor, payload, idempotency_key)

    @rpc
    def assign_opinion(self, actor, opinion_id, payload, idempotency_key=None):
        return opinions.assign_opinion(self.db, actor, opinion_id, payload, idempotency_key, self.registration)

    @rpc
    def resolve_opinion(self, actor, opinion_id, payload, idempotency_key=None):
        return opinions.resolve_opinion(self.db, actor, opinion_id, payload, idempotency_key, self.registration)

    @rpc
    def get_opinion(self, actor, opinion_id):
        return opinions.get_opinion(self.db, actor, opinion_id, self.registration)

    @rpc
    def list_opinions(self, actor, query=None):
        return opinions.list_opinions(self.db, actor, query or {})

    @rpc
    def opinion_stats(self, actor, query=None):
        return opinions.opinion_stats(self.db, actor, query or {})
