"""Scoring service entrypoints: the points ledger fed by dispatch's events."""


from common.db import Database
from common.messaging import consumes
from common.service import ServiceBase, rpc
from services.scoring import usecases
from services.scoring.models import Base


class ScoringService(ServiceBase):
    name = "scoring"
    db = Database(Base.metadata)

    @consumes("dispatch", "request.confirmed")
    def on_request_confirmed(self, uow, event):
        usecases.credit_confirmed_request(uow, event)

    @rpc
    def member_points(self, actor, member_id):
        return usecases.member_points(self.db, actor, member_id)
