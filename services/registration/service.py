"""Registration service entrypoints: members and work units report in (双报到)."""


from common.db import Database
from common.service import ServiceBase, rpc
from services.registration import usecases
from services.registration.models import Base


class RegistrationService(ServiceBase):
    name = "registration"
    db = Database(Base.metadata)

    @rpc
    def authenticate(self, credentials):
        return usecases.authenticate(self.db, credentials)

    @rpc
    def register_member(self, actor, payload):
        return usecases.register_member(self.db, actor, payload)

    @rpc
    def get_member(self, actor, member_id):
        return usecases.get_member(self.db, actor, member_id)

    @rpc
    def get_place(self, place_id):
        return usecases.get_place(self.db, place_id)

    @rpc
    def find_candidates(self, query):
        return usecases.find_candidates(self.db, query)
