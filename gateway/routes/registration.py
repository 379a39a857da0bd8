"""Members and work units reporting in (双报到)."""

from gateway.http import ANYONE, route
from services.registration import schemas


class RegistrationRoutes:
    @route("POST", "/api/members", tag="registration", summary="社区工作人员为党员登记报到",
           roles=("community_staff",), body=schemas.RegisterMember, response=schemas.Member,
           status=201)
    def register_member(self, call):
        return self.registration.register_member(call.actor, call.body)

    @route("GET", "/api/members/{member_id}", tag="registration", summary="党员报到信息",
           roles=ANYONE, response=schemas.Member)
    def get_member(self, call, member_id):
        return self.registration.get_member(call.actor, member_id)

    @route("GET", "/api/places/{place_id}", tag="registration", summary="组织架构节点（社区、网格、楼栋）",
           roles=ANYONE, response=schemas.Place)
    def get_place(self, call, place_id):
        return self.registration.get_place(place_id)
