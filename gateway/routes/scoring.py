"""Points and stars."""

from gateway.http import ANYONE, route
from services.scoring import schemas


class ScoringRoutes:
    @route("GET", "/api/members/{member_id}/points", tag="scoring", summary="党员积分与明细",
           roles=ANYONE, response=schemas.Balance)
    def member_points(self, call, member_id):
        return self.scoring.member_points(call.actor, member_id)
