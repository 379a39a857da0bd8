"""Dispatch service entrypoints: 居民点单、支部下单、党员接单."""

from nameko.rpc import RpcProxy

from common.db import Database
from common.service import ServiceBase, rpc
from services.dispatch import usecases
from services.dispatch.models import Base


class DispatchService(ServiceBase):
    name = "dispatch"
    db = Database(Base.metadata)
    registration = RpcProxy("registration")

    @rpc
    def list_menu(self, community_id):
        return usecases.list_menu(self.db, community_id)

    @rpc
    def submit_request(self, actor, payload):
        return usecases.submit_request(self.db, self.registration, actor, payload)

    @rpc
    def get_request(self, actor, request_id):
        return usecases.get_request(self.db, actor, request_id)

    @rpc
    def list_my_requests(self, actor):
        return usecases.list_my_requests(self.db, actor)

    @rpc
    def claim(self, actor, request_id):
        return usecases.claim(self.db, actor, request_id)

    @rpc
    def start(self, actor, request_id):
        return usecases.start(self.db, actor, request_id)

    @rpc
    def complete(self, actor, request_id, payload=None):
        return usecases.complete(self.db, actor, request_id, payload or {})

    @rpc
    def confirm(self, actor, request_id, payload):
        return usecases.confirm(self.db, actor, request_id, payload)
