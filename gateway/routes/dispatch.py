"""居民点单、支部下单、党员接单: service menus, needs, requests, escalation, micro-wishes, opinions.

Every command forwards the client's Idempotency-Key header: a retried command does not act twice.
"""

from gateway.http import route
from services.dispatch import schemas

TAG = "dispatch"


def _search_query(params: dict) -> dict:
    query = {k: v for k, v in params.items() if v is not None}
    if "states" in query:
        query["states"] = [s for s in query["states"].split(",") if s]
    return query


class DispatchRoutes:
    # ---- menus, needs, policy ----
    @route("GET", "/api/communities/{community_id}/menu", tag=TAG, summary="社区服务菜单",
           response=schemas.MenuItem(many=True))
    def menu(self, call, community_id):
        return self.dispatch.list_menu(community_id)

    @route("POST", "/api/communities/{community_id}/menu", tag=TAG, summary="新增服务菜单项目",
           body=schemas.MenuItemInput, response=schemas.MenuItem, status=201)
    def create_menu_item(self, call, community_id):
        return self.dispatch.create_menu_item(call.actor, community_id, call.body,
                                              idempotency_key=call.idempotency_key)

    @route("PATCH", "/api/menu-items/{menu_item_id}", tag=TAG, summary="修改或下架服务菜单项目",
           body=schemas.MenuItemPatch, response=schemas.MenuItem)
    def update_menu_item(self, call, menu_item_id):
        return self.dispatch.update_menu_item(call.actor, menu_item_id, call.body,
                                              idempotency_key=call.idempotency_key)

    @route("GET", "/api/communities/{community_id}/dispatch-policy", tag=TAG, summary="社区自动派单策略",
           response=schemas.PolicyView)
    def get_policy(self, call, community_id):
        return self.dispatch.get_policy(call.actor, community_id)

    @route("PUT", "/api/communities/{community_id}/dispatch-policy", tag=TAG, summary="设置社区自动派单策略",
           body=schemas.Policy, response=schemas.PolicyView)
    def set_policy(self, call, community_id):
        return self.dispatch.set_policy(call.actor, community_id, call.body, idempotency_key=call.idempotency_key)

    @route("GET", "/api/communities/{community_id}/needs", tag=TAG, summary="社区服务清单（党员主动认领）",
           response=schemas.Request(many=True, exclude=("history",)))
    def list_needs(self, call, community_id):
        return self.dispatch.list_needs(call.actor, community_id)

    @route("POST", "/api/communities/{community_id}/needs", tag=TAG, summary="发布社区需求（服务清单）",
           body=schemas.PostNeed, response=schemas.Request, status=201)
    def post_need(self, call, community_id):
        return self.dispatch.post_need(call.actor, community_id, call.body, idempotency_key=call.idempotency_key)

    # ---- requests ----
    @route("POST", "/api/requests", tag=TAG, summary="居民点单（或社区工作人员代来电群众点单）",
           body=schemas.SubmitRequest, response=schemas.Request, status=201)
    def submit_request(self, call):
        return self.dispatch.submit_request(call.actor, call.body, idempotency_key=call.idempotency_key)

    @route("GET", "/api/requests", tag=TAG, summary="我的服务请求（居民：我点的；党员：派给我的）",
           response=schemas.Request(many=True))
    def my_requests(self, call):
        return self.dispatch.list_my_requests(call.actor)

    @route("GET", "/api/requests/open", tag=TAG, summary="本社区开放认领、仍缺人手的居民点单（党员）",
           response=schemas.Request(many=True, exclude=("history",)))
    def open_requests(self, call):
        return self.dispatch.list_open_requests(call.actor)

    @route("GET", "/api/dispatch/requests", tag=TAG, summary="工作人员查询辖区内的服务请求",
           query=schemas.SearchParams, response=schemas.Request(many=True, exclude=("history",)))
    def search_requests(self, call):
        return self.dispatch.search_requests(call.actor, _search_query(call.query))

    @route("GET", "/api/escalations", tag=TAG, summary="上报待办队列（街道、区县统筹）",
           response=schemas.Request(many=True, exclude=("history",)))
    def escalation_queue(self, call):
        return self.dispatch.escalation_queue(call.actor)

    @route("GET", "/api/requests/{request_id}", tag=TAG, summary="服务请求详情与办理记录",
           response=schemas.Request)
    def get_request(self, call, request_id):
        return self.dispatch.get_request(call.actor, request_id)

    @route("GET", "/api/requests/{request_id}/timeline", tag=TAG, summary="办理时间线（谁、何时、从何到何、为何）",
           response=schemas.HistoryEntry(many=True))
    def timeline(self, call, request_id):
        return self.dispatch.timeline(call.actor, request_id)

    @route("GET", "/api/requests/{request_id}/candidates", tag=TAG, summary="匹配党员排序及理由（精准服务）",
           response=schemas.Candidate(many=True))
    def candidates(self, call, request_id):
        return self.dispatch.candidates(call.actor, request_id)

    @route("POST", "/api/requests/{request_id}/accept", tag=TAG, summary="受理并按策略派单",
           body=schemas.Transition, response=schemas.Request)
    def accept(self, call, request_id):
        return self.dispatch.accept(call.actor, request_id, call.body, idempotency_key=call.idempotency_key)

    @route("POST", "/api/requests/{request_id}/reject", tag=TAG, summary="不予受理（须说明理由）",
           body=schemas.ReasonRequired, response=schemas.Request)
    def reject(self, call, request_id):
        return self.dispatch.reject(call.actor, request_id, call.body, idempotency_key=call.idempotency_key)

    @route("POST", "/api/requests/{request_id}/merge", tag=TAG, summary="合并为重复请求",
           body=schemas.Merge, response=schemas.Request)
    def merge(self, call, request_id):
        return self.dispatch.merge(call.actor, request_id, call.body, idempotency_key=call.idempotency_key)

    @route("POST", "/api/requests/{request_id}/offer", tag=TAG, summary="支部下单：派给指定党员或开放认领",
           body=schemas.Offer, response=schemas.Request)
    def offer(self, call, request_id):
        return self.dispatch.offer(call.actor, request_id, call.body, idempotency_key=call.idempotency_key)

    @route("POST", "/api/requests/{request_id}/claim", tag=TAG, summary="党员接单",
           response=schemas.Request)
    def claim(self, call, request_id):
        return self.dispatch.claim(call.actor, request_id, idempotency_key=call.idempotency_key)

    @route("POST", "/api/requests/{request_id}/decline", tag=TAG, summary="党员谢绝派单",
           body=schemas.Transition, response=schemas.Request)
    def decline(self, call, request_id):
        return self.dispatch.decline(call.actor, request_id, call.body, idempotency_key=call.idempotency_key)

    @route("POST", "/api/requests/{request_id}/hand-back", tag=TAG, summary="党员退单（须说明理由）",
           body=schemas.ReasonRequired, response=schemas.Request)
    def hand_back(self, call, request_id):
        return self.dispatch.hand_back(call.actor, request_id, call.body, idempotency_key=call.idempotency_key)

    @route("POST", "/api/requests/{request_id}/reassign", tag=TAG, summary="工作人员改派",
           body=schemas.Reassign, response=schemas.Request)
    def reassign(self, call, request_id):
        return self.dispatch.reassign(call.actor, request_id, call.body, idempotency_key=call.idempotency_key)

    @route("POST", "/api/requests/{request_id}/start", tag=TAG, summary="开始服务",
           response=schemas.Request)
    def start(self, call, request_id):
        return self.dispatch.start(call.actor, request_id, idempotency_key=call.idempotency_key)

    @route("POST", "/api/requests/{request_id}/complete", tag=TAG, summary="服务完成",
           body=schemas.Complete, response=schemas.Request)
    def complete(self, call, request_id):
        return self.dispatch.complete(call.actor, request_id, call.body, idempotency_key=call.idempotency_key)

    @route("POST", "/api/requests/{request_id}/confirm", tag=TAG,
           summary="居民确认并评价（或工作人员代为确认）", body=schemas.Confirm,
           response=schemas.Request)
    def confirm(self, call, request_id):
        return self.dispatch.confirm(call.actor, request_id, call.body, idempotency_key=call.idempotency_key)

    @route("POST", "/api/requests/{request_id}/cancel", tag=TAG, summary="撤销服务请求（服务开始前）",
           body=schemas.Transition, response=schemas.Request)
    def cancel(self, call, request_id):
        return self.dispatch.cancel(call.actor, request_id, call.body, idempotency_key=call.idempotency_key)

    @route("POST", "/api/requests/{request_id}/escalate", tag=TAG, summary="上报上一级统筹（须说明理由）",
           body=schemas.ReasonRequired, response=schemas.Request)
    def escalate(self, call, request_id):
        return self.dispatch.escalate(call.actor, request_id, call.body, idempotency_key=call.idempotency_key)

    @route("POST", "/api/requests/{request_id}/send-down", tag=TAG, summary="退回下一级办理（须说明理由）",
           body=schemas.ReasonRequired, response=schemas.Request)
    def send_down(self, call, request_id):
        return self.dispatch.send_down(call.actor, request_id, call.body, idempotency_key=call.idempotency_key)

    @route("POST", "/api/requests/{request_id}/joint-meeting", tag=TAG, summary="联席会议交办共驻共建单位",
           body=schemas.JointMeeting, response=schemas.Request)
    def joint_meeting(self, call, request_id):
        return self.dispatch.joint_meeting(call.actor, request_id, call.body,
                                           idempotency_key=call.idempotency_key)

    # ---- micro-wishes ----
    @route("POST", "/api/wishes", tag=TAG, summary="发布微心愿（居民本人，或工作人员、网格长代发）",
           body=schemas.PostWish, response=schemas.Wish,
           status=201)
    def post_wish(self, call):
        return self.dispatch.post_wish(call.actor, call.body, idempotency_key=call.idempotency_key)

    @route("GET", "/api/wishes", tag=TAG, summary="微心愿列表", query=schemas.WishQuery,
           response=schemas.Wish(many=True, exclude=("history",)))
    def list_wishes(self, call):
        return self.dispatch.list_wishes(call.actor, {k: v for k, v in call.query.items() if v is not None})

    @route("GET", "/api/wishes/{wish_id}", tag=TAG, summary="微心愿详情与记录", response=schemas.Wish)
    def get_wish(self, call, wish_id):
        return self.dispatch.get_wish(call.actor, wish_id)

    @route("POST", "/api/wishes/{wish_id}/claim", tag=TAG, summary="认领微心愿（个人或e支部）",
           body=schemas.ClaimWish, response=schemas.Wish)
    def claim_wish(self, call, wish_id):
        return self.dispatch.claim_wish(call.actor, wish_id, call.body, idempotency_key=call.idempotency_key)

    @route("POST", "/api/wishes/{wish_id}/fulfil", tag=TAG, summary="心愿已实现（附说明）",
           body=schemas.FulfilWish, response=schemas.Wish)
    def fulfil_wish(self, call, wish_id):
        return self.dispatch.fulfil_wish(call.actor, wish_id, call.body, idempotency_key=call.idempotency_key)

    @route("POST", "/api/wishes/{wish_id}/confirm", tag=TAG, summary="确认心愿已实现",
           body=schemas.Transition, response=schemas.Wish)
    def confirm_wish(self, call, wish_id):
        return self.dispatch.confirm_wish(call.actor, wish_id, call.body, idempotency_key=call.idempotency_key)

    # ---- opinions ----
    @route("POST", "/api/opinions", tag=TAG, summary="提交意见建议或投诉（民意）",
           body=schemas.SubmitOpinion, response=schemas.Opinion, status=201)
    def submit_opinion(self, call):
        return self.dispatch.submit_opinion(call.actor, call.body, idempotency_key=call.idempotency_key)

    @route("GET", "/api/opinions", tag=TAG, summary="民意列表（群众：我提的；工作人员：辖区内）",
           query=schemas.OpinionQuery, response=schemas.Opinion(many=True, exclude=("history",)))
    def list_opinions(self, call):
        return self.dispatch.list_opinions(call.actor, {k: v for k, v in call.query.items() if v is not None})

    @route("GET", "/api/opinion-stats", tag=TAG, summary="各社区民意收集与办结情况",
           query=schemas.OpinionStatsQuery, response=schemas.OpinionStats(many=True))
    def opinion_stats(self, call):
        return self.dispatch.opinion_stats(call.actor, {k: v for k, v in call.query.items() if v is not None})

    @route("GET", "/api/opinions/{opinion_id}", tag=TAG, summary="意见详情与办理记录", response=schemas.Opinion)
    def get_opinion(self, call, opinion_id):
        return self.dispatch.get_opinion(call.actor, opinion_id)

    @route("POST", "/api/opinions/{opinion_id}/assign", tag=TAG, summary="交办意见（承办人、时限）",
           body=schemas.AssignOpinion, response=schemas.Opinion)
    def assign_opinion(self, call, opinion_id):
        return self.dispatch.assign_opinion(call.actor, opinion_id, call.body, idempotency_key=call.idempotency_key)

    @route("POST", "/api/opinions/{opinion_id}/resolve", tag=TAG, summary="意见办结",
           body=schemas.ResolveOpinion, response=schemas.Opinion)
    def resolve_opinion(self, call, opinion_id):
        return self.dispatch.resolve_opinion(call.actor, opinion_id, call.body,
                                             idempotency_key=call.idempotency_key)
