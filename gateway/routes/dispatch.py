"""居民点单、支部下单、党员接单: service menus and requests."""

from gateway.http import ANYONE, route
from services.dispatch import schemas

MEMBERS = ("member", "grid_leader")
CONFIRMERS = ("resident", "community_staff", "grid_leader")


class DispatchRoutes:
    @route("GET", "/api/communities/{community_id}/menu", tag="dispatch", summary="社区服务菜单",
           roles=ANYONE, response=schemas.MenuItem(many=True))
    def menu(self, call, community_id):
        return self.dispatch.list_menu(community_id)

    @route("POST", "/api/requests", tag="dispatch", summary="居民点单", roles=("resident",),
           body=schemas.SubmitRequest, response=schemas.Request, status=201)
    def submit_request(self, call):
        return self.dispatch.submit_request(call.actor, call.body)

    @route("GET", "/api/requests", tag="dispatch", summary="我的服务请求（居民：我点的；党员：派给我的）",
           roles=ANYONE, response=schemas.Request(many=True))
    def my_requests(self, call):
        return self.dispatch.list_my_requests(call.actor)

    @route("GET", "/api/requests/{request_id}", tag="dispatch", summary="服务请求详情与办理记录",
           roles=ANYONE, response=schemas.Request)
    def get_request(self, call, request_id):
        return self.dispatch.get_request(call.actor, request_id)

    @route("POST", "/api/requests/{request_id}/claim", tag="dispatch", summary="党员接单",
           roles=MEMBERS, response=schemas.Request)
    def claim(self, call, request_id):
        return self.dispatch.claim(call.actor, request_id)

    @route("POST", "/api/requests/{request_id}/start", tag="dispatch", summary="开始服务",
           roles=MEMBERS, response=schemas.Request)
    def start(self, call, request_id):
        return self.dispatch.start(call.actor, request_id)

    @route("POST", "/api/requests/{request_id}/complete", tag="dispatch", summary="服务完成",
           roles=MEMBERS, body=schemas.Transition, response=schemas.Request)
    def complete(self, call, request_id):
        return self.dispatch.complete(call.actor, request_id, call.body)

    @route("POST", "/api/requests/{request_id}/confirm", tag="dispatch",
           summary="居民确认并评价（或工作人员代为确认）", roles=CONFIRMERS, body=schemas.Confirm,
           response=schemas.Request)
    def confirm(self, call, request_id):
        return self.dispatch.confirm(call.actor, request_id, call.body)
